package storetest

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// exerciseGoals runs the GoalStore part of the suite, each test on a fresh
// migrated store.
func exerciseGoals(t *testing.T, migrated func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"GoalRoundTrip", testGoalRoundTrip},
		{"GoalInvalid", testGoalInvalid},
		{"GoalDepthAndChildren", testGoalDepthAndChildren},
		{"GoalRollup", testGoalRollup},
		{"GoalRollupConcurrent", testGoalRollupConcurrent},
		{"GoalUpdateVersion", testGoalUpdateVersion},
		{"GoalBlocked", testGoalBlocked},
		{"GoalList", testGoalList},
		{"GoalSubtree", testGoalSubtree},
		{"GoalDelete", testGoalDelete},
		{"GoalDependencies", testGoalDependencies},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { t.Parallel(); tt.test(t, migrated(t)) })
	}
}

// newGoal is a pending, medium goal of agent titled title, created by
// user 3 at minute n, with an empty context.
func newGoal(agent int64, title string, n int) store.Goal {
	return store.Goal{AgentID: agent, Title: title, Status: store.GoalPending, Priority: store.GoalMedium,
		Context: json.RawMessage(`{}`), CreatedBy: "user:3", CreatedAt: minutes(n), UpdatedAt: minutes(n)}
}

// createGoal stores g or fails the test.
func createGoal(t *testing.T, s store.Store, g store.Goal) store.Goal {
	t.Helper()
	got, _, err := s.GoalCreate(t.Context(), g)
	if err != nil {
		t.Fatalf("GoalCreate(%s): %v", g.Title, err)
	}
	return got
}

// subGoal stores a sub-goal of parent, of the same agent, or fails the
// test.
func subGoal(t *testing.T, s store.Store, parent store.Goal, title string) store.Goal {
	t.Helper()
	g := newGoal(parent.AgentID, title, 1)
	g.ParentID = parent.ID
	return createGoal(t, s, g)
}

// changeGoal reads goal id, applies change at minute n and writes it back
// at the version read, or fails the test; it returns the goal and the
// rolled ancestors.
func changeGoal(t *testing.T, s store.Store, id int64, n int, change func(g *store.Goal)) (store.Goal, []store.Goal) {
	t.Helper()
	g, err := s.GoalGet(t.Context(), id)
	if err != nil {
		t.Fatalf("GoalGet(%d): %v", id, err)
	}
	change(&g)
	g.UpdatedAt = minutes(n)
	got, rolled, err := s.GoalUpdate(t.Context(), g)
	if err != nil {
		t.Fatalf("GoalUpdate(%d): %v", id, err)
	}
	return got, rolled
}

// progressOf reads the progress of each goal.
func progressOf(t *testing.T, s store.Store, ids ...int64) []int {
	t.Helper()
	out := make([]int, len(ids))
	for i, id := range ids {
		g, err := s.GoalGet(t.Context(), id)
		if err != nil {
			t.Fatalf("GoalGet(%d): %v", id, err)
		}
		out[i] = g.Progress
	}
	return out
}

// goalIDs returns the ids of goals, in order.
func goalIDs(goals []store.Goal) []int64 {
	var ids []int64
	for _, g := range goals {
		ids = append(ids, g.ID)
	}
	return ids
}

// showGoal prints a goal with its context as text.
func showGoal(g store.Goal) string {
	context := string(g.Context)
	g.Context = nil
	return fmt.Sprintf("%+v Context:%q", g, context)
}

// wantGoal fails the test unless the stored goal equals want, every field,
// byte for byte and with UTC times.
func wantGoal(t *testing.T, op string, s store.Store, want store.Goal) {
	t.Helper()
	got, err := s.GoalGet(t.Context(), want.ID)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: GoalGet = %s, %v;\nwant %s", op, showGoal(got), err, showGoal(want))
	}
}

func testGoalRoundTrip(t *testing.T, s store.Store) {
	agent := newAgentWithPersona(t, s, "Ada")
	full := store.Goal{
		AgentID: agent.ID, CircleID: 77, Depth: 3, Title: "Ship ✓ «goals»", Description: "All of it.",
		SuccessCriteria: "Tests pass.", Status: store.GoalPaused, Priority: store.GoalCritical, Progress: 42,
		StatusMessage: "Waiting.", Deadline: minutes(90).Add(7 * time.Millisecond), EstimatedHours: 12.5,
		ActualHours: 3.25, ResultSummary: "Half.", LessonsLearned: "Plan.", Tags: []string{"go", "ü"},
		Context: json.RawMessage(oddSettings), CircleTaskID: 9, BackgroundTaskID: "bt-1", CreatedBy: "agent:4",
		CreatedAt: minutes(1).Add(123 * time.Millisecond), UpdatedAt: minutes(2), StartedAt: minutes(3),
		CompletedAt: minutes(4), Version: 42,
	}
	got := createGoal(t, s, full)
	if got.ID <= 0 {
		t.Fatalf("GoalCreate returned id %d", got.ID)
	}
	want := full
	want.ID, want.Depth, want.Version = got.ID, 0, 1 // a top-level goal at version 1, whatever it was given
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GoalCreate = %s;\nwant %s", showGoal(got), showGoal(want))
	}
	wantGoal(t, "after GoalCreate", s, want)
	bare := createGoal(t, s, newGoal(agent.ID, "bare", 5))
	if bare.Tags != nil || bare.CircleID != 0 || bare.ParentID != 0 || !bare.Deadline.IsZero() || bare.BackgroundTaskID != "" ||
		!bare.StartedAt.IsZero() || bare.Version != 1 {
		t.Errorf("bare goal = %s", showGoal(bare))
	}
	wantGoal(t, "bare goal", s, bare)
	_, err := s.GoalGet(t.Context(), bare.ID+100)
	wantCode(t, "GoalGet of a missing goal", err, gathering.ENOTFOUND)
}

func testGoalInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	agent := newAgentWithPersona(t, s, "Ada")
	stored := createGoal(t, s, newGoal(agent.ID, "valid", 0))
	for name, change := range map[string]func(g *store.Goal){
		"empty title":        func(g *store.Goal) { g.Title = "" },
		"unknown status":     func(g *store.Goal) { g.Status = "sleeping" },
		"unknown priority":   func(g *store.Goal) { g.Priority = "urgent" },
		"progress over 100":  func(g *store.Goal) { g.Progress = 101 },
		"negative progress":  func(g *store.Goal) { g.Progress = -1 },
		"negative hours":     func(g *store.Goal) { g.ActualHours = -0.5 },
		"infinite hours":     func(g *store.Goal) { g.EstimatedHours = math.Inf(1) },
		"NaN hours":          func(g *store.Goal) { g.EstimatedHours = math.NaN() },
		"negative circle":    func(g *store.Goal) { g.CircleID = -2 },
		"negative task link": func(g *store.Goal) { g.CircleTaskID = -2 },
		"nil context":        func(g *store.Goal) { g.Context = nil },
		"context array":      func(g *store.Goal) { g.Context = json.RawMessage(`[]`) },
		"context not JSON":   func(g *store.Goal) { g.Context = json.RawMessage(`{"a":`) },
		"tag bad UTF-8":      func(g *store.Goal) { g.Tags = []string{"ok", "\xff"} },
	} {
		g := newGoal(agent.ID, "new", 1)
		change(&g)
		_, _, err := s.GoalCreate(ctx, g)
		wantCode(t, "GoalCreate with "+name, err, gathering.EINVALID)
		u := stored
		change(&u)
		_, _, err = s.GoalUpdate(ctx, u)
		wantCode(t, "GoalUpdate with "+name, err, gathering.EINVALID)
	}
	wantGoal(t, "after refused updates", s, stored)
	_, _, err := s.GoalCreate(ctx, newGoal(agent.ID+100, "no agent", 1))
	wantCode(t, "GoalCreate for a missing agent", err, gathering.ENOTFOUND)
	orphan := newGoal(agent.ID, "orphan", 1)
	orphan.ParentID = stored.ID + 100
	_, _, err = s.GoalCreate(ctx, orphan)
	wantCode(t, "GoalCreate under a missing parent", err, gathering.ENOTFOUND)
	if list, total, err := s.GoalList(ctx, store.GoalFilter{}, store.Page{}); err != nil || total != 1 || len(list) != 1 {
		t.Errorf("GoalList after refused creates = %d goals, total %d, %v; want 1", len(list), total, err)
	}
	_, _, err = s.GoalList(ctx, store.GoalFilter{Status: "sleeping"}, store.Page{})
	wantCode(t, "GoalList of an unknown status", err, gathering.EINVALID)
}

// wantParentRefused fails the test unless err is EINVALID naming the
// parent_id field.
func wantParentRefused(t *testing.T, op string, err error) {
	t.Helper()
	wantCode(t, op, err, gathering.EINVALID)
	if fields := gathering.ErrorFields(err); len(fields) != 1 || fields[0].Field != "parent_id" {
		t.Errorf("%s: fields %+v, want parent_id", op, fields)
	}
}

func testGoalDepthAndChildren(t *testing.T, s store.Store) {
	agent := newAgentWithPersona(t, s, "Ada")
	g := createGoal(t, s, newGoal(agent.ID, "level 0", 0))
	for depth := 1; depth <= store.MaxGoalDepth; depth++ {
		g = subGoal(t, s, g, fmt.Sprintf("level %d", depth))
		if g.Depth != depth {
			t.Fatalf("sub-goal at level %d has depth %d", depth, g.Depth)
		}
	}
	tooDeep := newGoal(agent.ID, "too deep", 1)
	tooDeep.ParentID = g.ID
	_, _, err := s.GoalCreate(t.Context(), tooDeep)
	wantParentRefused(t, "GoalCreate under the deepest goal", err)

	wide := createGoal(t, s, newGoal(agent.ID, "wide", 0))
	for i := range store.MaxGoalChildren {
		subGoal(t, s, wide, fmt.Sprintf("child %d", i))
	}
	one := newGoal(agent.ID, "one too many", 1)
	one.ParentID = wide.ID
	_, _, err = s.GoalCreate(t.Context(), one)
	wantParentRefused(t, "GoalCreate of a sub-goal too many", err)
	if _, total, err := s.GoalList(t.Context(), store.GoalFilter{ParentID: wide.ID}, store.Page{}); err != nil ||
		total != store.MaxGoalChildren {
		t.Errorf("sub-goals of the wide goal: %d, %v; want %d", total, err, store.MaxGoalChildren)
	}
}

func testGoalRollup(t *testing.T, s store.Store) {
	agent := newAgentWithPersona(t, s, "Ada")
	root := createGoal(t, s, newGoal(agent.ID, "root", 0))
	a, b := subGoal(t, s, root, "a"), subGoal(t, s, root, "b")
	a1, a2 := subGoal(t, s, a, "a1"), subGoal(t, s, a, "a2")
	x, y := subGoal(t, s, a1, "x"), subGoal(t, s, a1, "y")
	all := []int64{root.ID, a.ID, b.ID, a1.ID, a2.ID, x.ID, y.ID}
	if got := progressOf(t, s, all...); slices.Max(got) != 0 {
		t.Fatalf("progress before any work: %v", got)
	}
	// x at 60: a1 = mean(60, 0) = 30, a = mean(30, 0) = 15, root = mean(15, 0) = 8 (7.5 rounded half up).
	_, rolled := changeGoal(t, s, x.ID, 10, func(g *store.Goal) { g.Progress = 60 })
	if got := progressOf(t, s, all...); !slices.Equal(got, []int{8, 15, 0, 30, 0, 60, 0}) {
		t.Errorf("after x at 60: %v", got)
	}
	if ids := goalIDs(rolled); !slices.Equal(ids, []int64{a1.ID, a.ID, root.ID}) {
		t.Errorf("rolled %v, want a1, a, root nearest first", ids)
	}
	for _, r := range rolled {
		if !r.UpdatedAt.Equal(minutes(10)) || r.Version != 1 {
			t.Errorf("rolled goal %s: updated %v version %d; want minute 10, version 1", r.Title, r.UpdatedAt, r.Version)
		}
	}
	// y completed counts 100 whatever its own progress: a1 = 80, a = 40, root = 20.
	changeGoal(t, s, y.ID, 11, func(g *store.Goal) { g.Status, g.Progress = store.GoalCompleted, 5 })
	if got := progressOf(t, s, root.ID, a.ID, a1.ID); !slices.Equal(got, []int{20, 40, 80}) {
		t.Errorf("after y completed: %v", got)
	}
	// a2 cancelled is left out: a = a1 = 80, root = mean(80, 0) = 40.
	changeGoal(t, s, a2.ID, 12, func(g *store.Goal) { g.Status = store.GoalCancelled })
	if got := progressOf(t, s, root.ID, a.ID); !slices.Equal(got, []int{40, 80}) {
		t.Errorf("after a2 cancelled: %v", got)
	}
	// A goal with sub-goals that count keeps their rollup, whatever it is given.
	if got, _ := changeGoal(t, s, a.ID, 13, func(g *store.Goal) { g.Progress = 3 }); got.Progress != 80 {
		t.Errorf("a given progress 3 stores %d, want its rollup 80", got.Progress)
	}
	// A new sub-goal counts at once: b gets b1 at 0 (b stays 0); a1 gets z at 0: a1 = 53, a = 53, root = 27.
	subGoal(t, s, b, "b1")
	subGoal(t, s, a1, "z")
	if got := progressOf(t, s, root.ID, a.ID, a1.ID); !slices.Equal(got, []int{27, 53, 53}) {
		t.Errorf("after adding z: %v", got)
	}
	// Deleting x leaves y (100) and z (0): a1 = 50, a = 50, root = 25.
	rolled, err := s.GoalDelete(t.Context(), x.ID, minutes(14))
	if err != nil || !slices.Equal(goalIDs(rolled), []int64{a1.ID, a.ID, root.ID}) {
		t.Fatalf("GoalDelete(x) rolled %v, %v", goalIDs(rolled), err)
	}
	if got := progressOf(t, s, root.ID, a.ID, a1.ID); !slices.Equal(got, []int{25, 50, 50}) {
		t.Errorf("after deleting x: %v", got)
	}
	// A completed goal keeps its own progress; its parent counts it 100.
	changeGoal(t, s, a.ID, 15, func(g *store.Goal) { g.Status, g.Progress = store.GoalCompleted, 100 })
	if got := progressOf(t, s, root.ID, a.ID); !slices.Equal(got, []int{50, 100}) {
		t.Errorf("after a completed: %v", got)
	}
}

func testGoalRollupConcurrent(t *testing.T, s store.Store) {
	agent := newAgentWithPersona(t, s, "Ada")
	root := createGoal(t, s, newGoal(agent.ID, "root", 0))
	parent := subGoal(t, s, root, "parent")
	const children = 8
	var kids []store.Goal
	for i := range children {
		kids = append(kids, subGoal(t, s, parent, fmt.Sprintf("kid %d", i)))
	}
	var wg sync.WaitGroup
	errs := make([]error, children)
	for i, kid := range kids {
		wg.Go(func() {
			kid.Progress, kid.UpdatedAt = 10*(i+1), minutes(5)
			_, _, errs[i] = s.GoalUpdate(t.Context(), kid)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("update of kid %d: %v", i, err)
		}
	}
	// mean(10, 20, …, 80) = 45; the root has only the parent.
	if got := progressOf(t, s, parent.ID, root.ID); !slices.Equal(got, []int{45, 45}) {
		t.Errorf("after concurrent updates of siblings: %v, want [45 45]", got)
	}
}

func testGoalUpdateVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	agent := newAgentWithPersona(t, s, "Ada")
	stored := createGoal(t, s, newGoal(agent.ID, "core", 0))
	changed := stored
	changed.CircleID, changed.Title, changed.Description, changed.SuccessCriteria = 5, "Core ✓", "New", "Done when done"
	changed.Status, changed.Priority, changed.Progress, changed.StatusMessage = store.GoalActive, store.GoalHigh, 30, "going"
	changed.Deadline, changed.EstimatedHours, changed.ActualHours = minutes(60), 8, 2
	changed.ResultSummary, changed.LessonsLearned, changed.Tags = "r", "l", []string{"x"}
	changed.Context, changed.CircleTaskID, changed.BackgroundTaskID = json.RawMessage(oddSettings), 3, "bt-9"
	changed.UpdatedAt, changed.StartedAt, changed.CompletedAt = minutes(5), minutes(4), minutes(6)
	changed.AgentID, changed.CreatedBy, changed.CreatedAt, changed.Depth = agent.ID+1, "user:99", minutes(9), 4 // not written
	got, rolled, err := s.GoalUpdate(ctx, changed)
	if err != nil || rolled != nil {
		t.Fatalf("GoalUpdate: rolled %v, %v", goalIDs(rolled), err)
	}
	want := changed
	want.AgentID, want.CreatedBy, want.CreatedAt, want.Depth, want.Version = stored.AgentID, stored.CreatedBy, stored.CreatedAt, 0, 2
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GoalUpdate = %s;\nwant %s", showGoal(got), showGoal(want))
	}
	wantGoal(t, "after GoalUpdate", s, want)
	stale := changed // still at version 1
	stale.Title = "stale"
	_, _, err = s.GoalUpdate(ctx, stale)
	wantCode(t, "GoalUpdate at a stale version", err, gathering.ECONFLICT)
	wantGoal(t, "after a stale update", s, want)
	missing := want
	missing.ID += 100
	_, _, err = s.GoalUpdate(ctx, missing)
	wantCode(t, "GoalUpdate of a missing goal", err, gathering.ENOTFOUND)
}

func testGoalBlocked(t *testing.T, s store.Store) {
	ctx := t.Context()
	agent := newAgentWithPersona(t, s, "Ada")
	design := createGoal(t, s, newGoal(agent.ID, "design", 0))
	review := createGoal(t, s, newGoal(agent.ID, "review", 0))
	notes := createGoal(t, s, newGoal(agent.ID, "notes", 0))
	build := createGoal(t, s, newGoal(agent.ID, "build", 0))
	for _, d := range []store.GoalDependency{
		{GoalID: build.ID, DependsOnID: design.ID, Type: store.GoalBlocks, CreatedAt: minutes(1)},
		{GoalID: build.ID, DependsOnID: review.ID, Type: store.GoalBlocks, CreatedAt: minutes(1)},
		{GoalID: build.ID, DependsOnID: notes.ID, Type: store.GoalInforms, CreatedAt: minutes(1)},
	} {
		if _, err := s.GoalDependencyAdd(ctx, d); err != nil {
			t.Fatalf("GoalDependencyAdd(%+v): %v", d, err)
		}
	}
	blockers, err := s.GoalBlockers(ctx, build.ID)
	if err != nil || !slices.Equal(goalIDs(blockers), []int64{design.ID, review.ID}) {
		t.Fatalf("GoalBlockers = %v, %v; want design and review", goalIDs(blockers), err)
	}
	start := build
	start.Status, start.UpdatedAt = store.GoalActive, minutes(2)
	_, _, err = s.GoalUpdate(ctx, start)
	wantCode(t, "activating a blocked goal", err, gathering.ECONFLICT)
	msg := gathering.ErrorMessage(err)
	if !strings.Contains(msg, fmt.Sprint(design.ID)) || !strings.Contains(msg, fmt.Sprint(review.ID)) {
		t.Errorf("refusal %q names neither blocker", msg)
	}
	paused := build
	paused.Status = store.GoalPaused // other statuses are not blocked
	if _, _, err := s.GoalUpdate(ctx, paused); err != nil {
		t.Fatalf("pausing a blocked goal: %v", err)
	}
	changeGoal(t, s, design.ID, 3, func(g *store.Goal) { g.Status = store.GoalCompleted })
	changeGoal(t, s, review.ID, 3, func(g *store.Goal) { g.Status = store.GoalCompleted })
	if blockers, err := s.GoalBlockers(ctx, build.ID); err != nil || len(blockers) != 0 {
		t.Errorf("GoalBlockers once completed = %v, %v; want none", goalIDs(blockers), err)
	}
	if got, _ := changeGoal(t, s, build.ID, 4, func(g *store.Goal) { g.Status = store.GoalActive }); got.Status != store.GoalActive {
		t.Errorf("activating once unblocked: %s", got.Status)
	}
}

func testGoalList(t *testing.T, s store.Store) {
	ada, bob := newAgentWithPersona(t, s, "Ada"), newAgentWithPersona(t, s, "Bob")
	create := func(agent int64, circle int64, status store.GoalStatus, parent int64) int64 {
		g := newGoal(agent, "g", 0)
		g.CircleID, g.Status, g.ParentID = circle, status, parent
		return createGoal(t, s, g).ID
	}
	a := create(ada.ID, 1, store.GoalActive, 0)
	b := create(ada.ID, 0, store.GoalPending, a)
	c := create(bob.ID, 1, store.GoalPending, 0)
	d := create(bob.ID, 2, store.GoalCompleted, a)
	e := create(ada.ID, 1, store.GoalPending, b)
	all := []int64{a, b, c, d, e}
	for _, tc := range []struct {
		filter store.GoalFilter
		page   store.Page
		want   []int64
		total  int
		counts map[store.GoalStatus]int
	}{
		{store.GoalFilter{}, store.Page{}, all, 5, map[store.GoalStatus]int{"active": 1, "pending": 3, "completed": 1}},
		{store.GoalFilter{}, store.Page{Limit: 2, Offset: 1}, all[1:3], 5, nil},
		{store.GoalFilter{}, store.Page{Offset: 9}, nil, 5, nil},
		{store.GoalFilter{AgentID: ada.ID}, store.Page{}, []int64{a, b, e}, 3, map[store.GoalStatus]int{"active": 1, "pending": 2}},
		{store.GoalFilter{CircleID: 1}, store.Page{}, []int64{a, c, e}, 3, nil},
		{store.GoalFilter{ParentID: a}, store.Page{}, []int64{b, d}, 2, map[store.GoalStatus]int{"pending": 1, "completed": 1}},
		{store.GoalFilter{RootOnly: true}, store.Page{}, []int64{a, c}, 2, nil},
		{store.GoalFilter{Status: store.GoalPending}, store.Page{}, []int64{b, c, e}, 3,
			map[store.GoalStatus]int{"active": 1, "pending": 3, "completed": 1}},
		{store.GoalFilter{AgentID: bob.ID, CircleID: 1, RootOnly: true, Status: store.GoalPending}, store.Page{}, []int64{c}, 1, nil},
		{store.GoalFilter{AgentID: bob.ID, Status: store.GoalActive}, store.Page{}, nil, 0, nil},
	} {
		list, total, err := s.GoalList(t.Context(), tc.filter, tc.page)
		if got := goalIDs(list); err != nil || total != tc.total || !slices.Equal(got, tc.want) {
			t.Errorf("GoalList(%+v, %+v) = %v, total %d, %v; want %v, total %d", tc.filter, tc.page, got, total, err, tc.want, tc.total)
		}
		if tc.counts == nil {
			continue
		}
		if counts, err := s.GoalCountByStatus(t.Context(), tc.filter); err != nil || !maps.Equal(counts, tc.counts) {
			t.Errorf("GoalCountByStatus(%+v) = %v, %v; want %v", tc.filter, counts, err, tc.counts)
		}
	}
}

func testGoalSubtree(t *testing.T, s store.Store) {
	agent := newAgentWithPersona(t, s, "Ada")
	root := createGoal(t, s, newGoal(agent.ID, "root", 0))
	a, b := subGoal(t, s, root, "a"), subGoal(t, s, root, "b")
	a1 := subGoal(t, s, a, "a1")
	b1 := subGoal(t, s, b, "b1")
	a11 := subGoal(t, s, a1, "a11")
	other := createGoal(t, s, newGoal(agent.ID, "other", 0))
	tree, err := s.GoalSubtree(t.Context(), root.ID, 100)
	if want := []int64{root.ID, a.ID, b.ID, a1.ID, b1.ID, a11.ID}; err != nil || !slices.Equal(goalIDs(tree), want) {
		t.Errorf("GoalSubtree(root) = %v, %v; want %v (by depth, then id)", goalIDs(tree), err, want)
	}
	tree, err = s.GoalSubtree(t.Context(), root.ID, 4)
	if err != nil || !slices.Equal(goalIDs(tree), []int64{root.ID, a.ID, b.ID, a1.ID}) {
		t.Errorf("GoalSubtree(root, 4) = %v, %v", goalIDs(tree), err)
	}
	if tree, err := s.GoalSubtree(t.Context(), a1.ID, 100); err != nil || !slices.Equal(goalIDs(tree), []int64{a1.ID, a11.ID}) {
		t.Errorf("GoalSubtree(a1) = %v, %v", goalIDs(tree), err)
	}
	if tree, err := s.GoalSubtree(t.Context(), other.ID, 0); err != nil || !slices.Equal(goalIDs(tree), []int64{other.ID}) {
		t.Errorf("GoalSubtree(other, 0) = %v, %v; want the goal alone", goalIDs(tree), err)
	}
	_, err = s.GoalSubtree(t.Context(), other.ID+100, 10)
	wantCode(t, "GoalSubtree of a missing goal", err, gathering.ENOTFOUND)
}

func testGoalDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	agent := newAgentWithPersona(t, s, "Ada")
	root := createGoal(t, s, newGoal(agent.ID, "root", 0))
	a := subGoal(t, s, root, "a")
	a1 := subGoal(t, s, a, "a1")
	keep := createGoal(t, s, newGoal(agent.ID, "keep", 0))
	dep := store.GoalDependency{GoalID: keep.ID, DependsOnID: a1.ID, Type: store.GoalBlocks, CreatedAt: minutes(1)}
	if _, err := s.GoalDependencyAdd(ctx, dep); err != nil {
		t.Fatal(err)
	}
	changeGoal(t, s, a1.ID, 2, func(g *store.Goal) { g.Status = store.GoalActive })
	for _, id := range []int64{root.ID, a.ID, a1.ID} {
		_, err := s.GoalDelete(ctx, id, minutes(3))
		wantCode(t, "GoalDelete with an active goal in the tree", err, gathering.ECONFLICT)
	}
	changeGoal(t, s, a1.ID, 4, func(g *store.Goal) { g.Status = store.GoalPaused })
	if _, err := s.GoalDelete(ctx, root.ID, minutes(5)); err != nil {
		t.Fatalf("GoalDelete(root): %v", err)
	}
	for _, id := range []int64{root.ID, a.ID, a1.ID} {
		_, err := s.GoalGet(ctx, id)
		wantCode(t, "GoalGet of a deleted goal", err, gathering.ENOTFOUND)
	}
	if deps, err := s.GoalDependencies(ctx, keep.ID); err != nil || len(deps) != 0 {
		t.Errorf("dependencies on a deleted goal = %+v, %v; want none", deps, err)
	}
	_, err := s.GoalDelete(ctx, root.ID, minutes(6))
	wantCode(t, "GoalDelete of a missing goal", err, gathering.ENOTFOUND)
	if err := s.AgentDelete(ctx, agent.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.GoalGet(ctx, keep.ID)
	wantCode(t, "GoalGet of a deleted agent's goal", err, gathering.ENOTFOUND)
}

func testGoalDependencies(t *testing.T, s store.Store) {
	ctx := t.Context()
	agent := newAgentWithPersona(t, s, "Ada")
	var goals []store.Goal
	for i := range store.MaxGoalDependencies + 2 {
		goals = append(goals, createGoal(t, s, newGoal(agent.ID, fmt.Sprintf("g%d", i), 0)))
	}
	g0, g1, g2 := goals[0], goals[1], goals[2]
	add := func(from, to store.Goal, typ store.GoalDependencyType) (store.GoalDependency, error) {
		return s.GoalDependencyAdd(ctx, store.GoalDependency{GoalID: from.ID, DependsOnID: to.ID, Type: typ,
			CreatedAt: minutes(2).Add(5 * time.Millisecond)})
	}
	got, err := add(g0, g1, store.GoalBlocks)
	want := store.GoalDependency{GoalID: g0.ID, DependsOnID: g1.ID, Type: store.GoalBlocks,
		CreatedAt: minutes(2).Add(5 * time.Millisecond), DependsOnTitle: "g1", DependsOnStatus: store.GoalPending}
	if err != nil || got != want {
		t.Fatalf("GoalDependencyAdd = %+v, %v; want %+v", got, err, want)
	}
	if _, err := add(g1, g2, store.GoalEnhances); err != nil {
		t.Fatal(err)
	}
	_, err = add(g0, g1, store.GoalInforms)
	wantCode(t, "GoalDependencyAdd of an existing dependency", err, gathering.ECONFLICT)
	_, err = add(g2, g0, store.GoalInforms) // g0 → g1 → g2 → g0
	wantCode(t, "GoalDependencyAdd closing a cycle", err, gathering.ECONFLICT)
	_, err = add(g1, g0, store.GoalBlocks)
	wantCode(t, "GoalDependencyAdd closing a two-goal cycle", err, gathering.ECONFLICT)
	_, err = add(g0, g0, store.GoalBlocks)
	wantCode(t, "GoalDependencyAdd on itself", err, gathering.EINVALID)
	_, err = add(g0, g2, "needs")
	wantCode(t, "GoalDependencyAdd of an unknown type", err, gathering.EINVALID)
	_, err = add(g0, store.Goal{ID: g2.ID + 100}, store.GoalBlocks)
	wantCode(t, "GoalDependencyAdd on a missing goal", err, gathering.ENOTFOUND)
	_, err = add(store.Goal{ID: g2.ID + 100}, g0, store.GoalBlocks)
	wantCode(t, "GoalDependencyAdd of a missing goal", err, gathering.ENOTFOUND)
	last := goals[len(goals)-1]
	for _, g := range goals[1 : store.MaxGoalDependencies+1] {
		if g.ID != g1.ID {
			if _, err := add(last, g, store.GoalInforms); err != nil {
				t.Fatalf("dependency %s: %v", g.Title, err)
			}
		}
	}
	if _, err := add(last, g1, store.GoalInforms); err != nil {
		t.Fatalf("the last dependency allowed: %v", err)
	}
	_, err = add(last, g0, store.GoalInforms)
	wantCode(t, "GoalDependencyAdd past the limit", err, gathering.EINVALID)
	deps, err := s.GoalDependencies(ctx, g0.ID)
	if err != nil || len(deps) != 1 || deps[0] != want {
		t.Errorf("GoalDependencies(g0) = %+v, %v; want [%+v]", deps, err, want)
	}
	if err := s.GoalDependencyRemove(ctx, g0.ID, g1.ID); err != nil {
		t.Fatalf("GoalDependencyRemove: %v", err)
	}
	wantCode(t, "GoalDependencyRemove of a missing dependency", s.GoalDependencyRemove(ctx, g0.ID, g1.ID), gathering.ENOTFOUND)
	if _, err := add(g1, g0, store.GoalBlocks); err != nil {
		t.Errorf("GoalDependencyAdd once the cycle is broken: %v", err)
	}
}
