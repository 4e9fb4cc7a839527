package goal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/goal"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/pgstore"
	"github.com/gathering/gathering/internal/store/pgtest"
	"github.com/gathering/gathering/internal/store/sqlitestore"
	"github.com/gathering/gathering/internal/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// backends open a fresh migrated store of each kind.
var backends = map[string]func(testing.TB) store.Store{"sqlite": storetest.SQLite, "postgres": storetest.Postgres}

// eachBackend runs test on a fresh store of each backend.
func eachBackend(t *testing.T, test func(t *testing.T, db store.Store)) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) { t.Parallel(); test(t, open(t)) })
	}
}

// user is the actor of the tests.
var user = goal.Actor{UserID: 3}

// newAgent creates an agent or fails the test.
func newAgent(t testing.TB, db store.Store, name string) store.Agent {
	t.Helper()
	now := time.Now()
	p, err := db.PersonaCreate(context.Background(), store.Persona{DisplayName: "Persona of " + name, Role: "engineer",
		CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	a, err := db.AgentCreate(context.Background(), store.Agent{Name: name, PersonaID: p.ID, Provider: "openai", Model: "m",
		CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// create creates a goal of agent titled title under parent (0: none), or
// fails the test.
func create(t *testing.T, svc *goal.Service, agent int64, title string, parent int64) store.Goal {
	t.Helper()
	g, err := svc.Create(t.Context(), user, goal.NewGoal{AgentID: agent, Title: title, ParentID: parent})
	if err != nil {
		t.Fatalf("Create(%s): %v", title, err)
	}
	return g
}

// must returns a function that fails the test on an error (naming what
// was done) and otherwise returns the goal.
func must(t *testing.T, what string) func(store.Goal, error) store.Goal {
	return func(g store.Goal, err error) store.Goal {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return g
	}
}

// wantCode fails the test unless err has code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := gathering.ErrorCode(err); got != code {
		t.Errorf("%s: code %q (%v), want %q", what, got, err, code)
	}
}

// fieldsOf returns the fields err names, sorted.
func fieldsOf(err error) []string {
	var out []string
	for _, f := range gathering.ErrorFields(err) {
		out = append(out, f.Field)
	}
	slices.Sort(out)
	return out
}

func TestTransitions(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	svc := goal.New(db, nil, goal.Options{})
	agent := newAgent(t, db, "Ada").ID
	ctx := t.Context()
	type op func(id int64) (store.Goal, error)
	ops := map[string]op{
		"start":    func(id int64) (store.Goal, error) { return svc.Start(ctx, user, id) },
		"pause":    func(id int64) (store.Goal, error) { return svc.Pause(ctx, user, id, "lunch") },
		"resume":   func(id int64) (store.Goal, error) { return svc.Resume(ctx, user, id) },
		"block":    func(id int64) (store.Goal, error) { return svc.Block(ctx, user, id, "no access") },
		"complete": func(id int64) (store.Goal, error) { return svc.Complete(ctx, user, id, "done") },
		"fail":     func(id int64) (store.Goal, error) { return svc.Fail(ctx, user, id, "broke", "test first") },
		"cancel":   func(id int64) (store.Goal, error) { return svc.Cancel(ctx, user, id, "moot") },
		"progress": func(id int64) (store.Goal, error) { return svc.SetProgress(ctx, user, id, 40, "going") },
	}
	// reach brings a new goal to a status.
	reach := map[store.GoalStatus][]string{
		store.GoalPending: nil, store.GoalActive: {"start"}, store.GoalPaused: {"start", "pause"},
		store.GoalBlocked: {"block"}, store.GoalCompleted: {"complete"}, store.GoalFailed: {"fail"},
		store.GoalCancelled: {"cancel"},
	}
	allowed := map[string][]store.GoalStatus{
		"start": {"pending"}, "pause": {"active"}, "resume": {"paused", "blocked"}, "block": {"pending", "active"},
		"complete": {"pending", "active", "blocked", "paused"}, "fail": {"pending", "active", "blocked", "paused"},
		"cancel": {"pending", "active", "blocked", "paused"}, "progress": {"pending", "active", "blocked", "paused"},
	}
	result := map[string]store.GoalStatus{"start": "active", "pause": "paused", "resume": "active", "block": "blocked",
		"complete": "completed", "fail": "failed", "cancel": "cancelled"}
	for name, do := range ops {
		for from, path := range reach {
			g := create(t, svc, agent, name+" from "+string(from), 0)
			for _, step := range path {
				var err error
				if g, err = ops[step](g.ID); err != nil {
					t.Fatalf("%s: %v", step, err)
				}
			}
			got, err := do(g.ID)
			if !slices.Contains(allowed[name], from) {
				wantCode(t, name+" from "+string(from), err, gathering.ECONFLICT)
				continue
			}
			want := cmpOr(result[name], from)
			if err != nil || got.Status != want || got.Version != g.Version+1 {
				t.Errorf("%s from %s = %s v%d, %v; want %s v%d", name, from, got.Status, got.Version, err, want, g.Version+1)
			}
		}
	}
}

// cmpOr is a, or b when a is empty.
func cmpOr(a, b store.GoalStatus) store.GoalStatus {
	if a == "" {
		return b
	}
	return a
}

func TestTransitionFields(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	svc := goal.New(db, nil, goal.Options{})
	ctx := t.Context()
	agent := newAgent(t, db, "Ada").ID
	g := create(t, svc, agent, "ship", 0)
	started := must(t, "start")(svc.Start(ctx, user, g.ID))
	if started.StartedAt.IsZero() || !started.CompletedAt.IsZero() {
		t.Errorf("started: %+v", started)
	}
	paused := must(t, "pause")(svc.Pause(ctx, user, g.ID, "lunch"))
	resumed := must(t, "resume")(svc.Resume(ctx, user, g.ID))
	if paused.StatusMessage != "lunch" || !resumed.StartedAt.Equal(started.StartedAt) {
		t.Errorf("pause and resume: %q, started %v then %v", paused.StatusMessage, started.StartedAt, resumed.StartedAt)
	}
	done := must(t, "complete")(svc.Complete(ctx, user, g.ID, "Shipped."))
	if done.Progress != 100 || done.ResultSummary != "Shipped." || done.CompletedAt.IsZero() {
		t.Errorf("completed: %+v", done)
	}
	f := create(t, svc, agent, "fly", 0)
	failed := must(t, "fail")(svc.Fail(ctx, user, f.ID, "No wings.", "Check wings."))
	if failed.StatusMessage != "No wings." || failed.LessonsLearned != "Check wings." || failed.CompletedAt.IsZero() {
		t.Errorf("failed: %+v", failed)
	}
	_, err := svc.Fail(ctx, user, create(t, svc, agent, "x", 0).ID, " ", "")
	if wantCode(t, "fail without a reason", err, gathering.EINVALID); !slices.Equal(fieldsOf(err), []string{"reason"}) {
		t.Errorf("fail without a reason: fields %v", fieldsOf(err))
	}
	_, err = svc.Pause(ctx, user, g.ID, strings.Repeat("x", goal.MaxStatusMessage+1))
	wantCode(t, "pause with a reason too long", err, gathering.EINVALID)
	_, err = svc.Start(ctx, user, g.ID+100)
	wantCode(t, "start a missing goal", err, gathering.ENOTFOUND)
}

func TestBlockedStart(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, db store.Store) {
		svc := goal.New(db, nil, goal.Options{})
		ctx := t.Context()
		agent := newAgent(t, db, "Ada").ID
		design, build := create(t, svc, agent, "Design", 0), create(t, svc, agent, "Build", 0)
		if _, err := svc.AddDependency(ctx, user, build.ID, design.ID, ""); err != nil {
			t.Fatal(err)
		}
		_, err := svc.Start(ctx, user, build.ID)
		wantCode(t, "start while blocked", err, gathering.ECONFLICT)
		if msg := gathering.ErrorMessage(err); !strings.Contains(msg, `"Design"`) {
			t.Errorf("refusal %q does not name the blocker", msg)
		}
		must(t, "block")(svc.Block(ctx, user, build.ID, "waiting for the design"))
		_, err = svc.Resume(ctx, user, build.ID)
		wantCode(t, "resume while blocked", err, gathering.ECONFLICT)
		must(t, "complete the blocker")(svc.Complete(ctx, user, design.ID, ""))
		if g := must(t, "resume once unblocked")(svc.Resume(ctx, user, build.ID)); g.Status != store.GoalActive {
			t.Errorf("resumed: %s", g.Status)
		}
	})
}

func TestConcurrentStarts(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, db store.Store) {
		svc := goal.New(db, nil, goal.Options{})
		g := create(t, svc, newAgent(t, db, "Ada").ID, "race", 0)
		const starters = 8
		errs := make([]error, starters)
		var wg sync.WaitGroup
		for i := range starters {
			wg.Go(func() { _, errs[i] = svc.Start(t.Context(), user, g.ID) })
		}
		wg.Wait()
		var won, lost int
		for _, err := range errs {
			switch gathering.ErrorCode(err) {
			case "":
				won++
			case gathering.ECONFLICT:
				lost++
			default:
				t.Errorf("start: %v", err)
			}
		}
		if won != 1 || lost != starters-1 {
			t.Errorf("%d starts won, %d lost; want exactly one to win", won, lost)
		}
	})
}

func TestProgressRollsUp(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, db store.Store) {
		svc := goal.New(db, nil, goal.Options{})
		ctx := t.Context()
		agent := newAgent(t, db, "Ada").ID
		root := create(t, svc, agent, "root", 0)
		a := create(t, svc, agent, "a", root.ID)
		b := create(t, svc, agent, "b", root.ID)
		must(t, "progress")(svc.SetProgress(ctx, user, a.ID, 50, "half"))
		must(t, "complete")(svc.Complete(ctx, user, b.ID, ""))
		if d, err := svc.Get(ctx, root.ID); err != nil || d.Progress != 75 || d.Subgoals != 2 || d.CompletedSubgoals != 1 {
			t.Errorf("root: %+v, %v; want 75%%, 2 sub-goals, 1 completed", d, err)
		}
		_, err := svc.SetProgress(ctx, user, root.ID, 10, "")
		wantCode(t, "progress of a goal with sub-goals", err, gathering.ECONFLICT)
		_, err = svc.Update(ctx, user, root.ID, goal.Patch{Progress: new(10)})
		wantCode(t, "patched progress of a goal with sub-goals", err, gathering.ECONFLICT)
		_, err = svc.SetProgress(ctx, user, b.ID, 10, "")
		wantCode(t, "progress of a completed goal", err, gathering.ECONFLICT)
		// A cancelled sub-goal is left out: the root is b's 100.
		must(t, "cancel")(svc.Cancel(ctx, user, a.ID, ""))
		if g, err := svc.Get(ctx, root.ID); err != nil || g.Progress != 100 {
			t.Errorf("root once a is cancelled: %d%%, %v; want 100", g.Progress, err)
		}
		// Every sub-goal cancelled: a goal's progress is its own again.
		lone := create(t, svc, agent, "lone", 0)
		must(t, "cancel")(svc.Cancel(ctx, user, create(t, svc, agent, "gone", lone.ID).ID, ""))
		g := must(t, "progress of a goal whose sub-goals are cancelled")(svc.SetProgress(ctx, user, lone.ID, 10, ""))
		if g.Progress != 10 {
			t.Errorf("its own progress: %d", g.Progress)
		}
	})
}

func TestCreateChecks(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	svc := goal.New(db, nil, goal.Options{})
	ctx := t.Context()
	agent := newAgent(t, db, "Ada").ID
	for _, tc := range []struct {
		name   string
		n      goal.NewGoal
		fields []string
	}{
		{"nothing", goal.NewGoal{}, []string{"agent_id", "title"}},
		{"spaces", goal.NewGoal{AgentID: agent, Title: "   "}, []string{"title"}},
		{"too long", goal.NewGoal{AgentID: agent, Title: strings.Repeat("é", goal.MaxTitle+1),
			Description: strings.Repeat("d", goal.MaxDescription+1), SuccessCriteria: strings.Repeat("s", goal.MaxSuccessCriteria+1),
			BackgroundTaskID: strings.Repeat("b", goal.MaxBackgroundTaskID+1)},
			[]string{"background_task_id", "description", "success_criteria", "title"}},
		{"numbers", goal.NewGoal{AgentID: agent, Title: "t", Priority: "urgent", EstimatedHours: goal.MaxHours + 1,
			CircleID: -1, ParentID: -1, CircleTaskID: -1},
			[]string{"circle_id", "circle_task_id", "estimated_hours", "parent_id", "priority"}},
		{"tags", goal.NewGoal{AgentID: agent, Title: "t", Tags: append(slices.Repeat([]string{"x"}, goal.MaxTags), "")},
			[]string{"tags", "tags/20"}},
		{"context", goal.NewGoal{AgentID: agent, Title: "t", Context: json.RawMessage(`[1]`)}, []string{"context"}},
		{"big context", goal.NewGoal{AgentID: agent, Title: "t",
			Context: json.RawMessage(`{"a":"` + strings.Repeat("x", goal.MaxContextBytes) + `"}`)}, []string{"context"}},
		{"no agent", goal.NewGoal{AgentID: agent + 100, Title: "t"}, []string{"agent_id"}},
		{"no parent", goal.NewGoal{AgentID: agent, Title: "t", ParentID: 999}, []string{"parent_id"}},
	} {
		_, err := svc.Create(ctx, user, tc.n)
		if wantCode(t, tc.name, err, gathering.EINVALID); !slices.Equal(fieldsOf(err), tc.fields) {
			t.Errorf("%s: fields %v, want %v", tc.name, fieldsOf(err), tc.fields)
		}
	}
	limits := goal.NewGoal{AgentID: agent, Title: strings.Repeat("é", goal.MaxTitle),
		Tags:           slices.Repeat([]string{strings.Repeat("t", goal.MaxTag)}, goal.MaxTags),
		EstimatedHours: goal.MaxHours, BackgroundTaskID: strings.Repeat("b", goal.MaxBackgroundTaskID)}
	g := must(t, "a goal at every limit")(svc.Create(ctx, user, limits))
	if g.Priority != store.GoalMedium || string(g.Context) != "{}" || g.CreatedBy != "user:3" || g.Status != store.GoalPending {
		t.Errorf("defaults: %+v", g)
	}
	circled := must(t, "a goal in a circle")(svc.Create(ctx, user, goal.NewGoal{AgentID: agent, Title: "c", CircleID: 7}))
	if sub := create(t, svc, agent, "sub", circled.ID); sub.CircleID != 7 || sub.Depth != 1 {
		t.Errorf("a sub-goal without a circle takes its parent's: circle %d depth %d", sub.CircleID, sub.Depth)
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	svc := goal.New(db, nil, goal.Options{})
	ctx := t.Context()
	g := create(t, svc, newAgent(t, db, "Ada").ID, "draft", 0)
	deadline := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	got := must(t, "patch")(svc.Update(ctx, goal.Actor{AgentID: 9}, g.ID, goal.Patch{Version: g.Version,
		Title: new("final"), Priority: new(store.GoalHigh), Deadline: &deadline, Tags: []string{"a"},
		Context: json.RawMessage(`{"k":1}`), CircleTaskID: new(int64(4)), BackgroundTaskID: new("bt-1"),
		ActualHours: new(2.5)}))
	if got.Title != "final" || got.Priority != store.GoalHigh || !got.Deadline.Equal(deadline) || got.CircleTaskID != 4 ||
		got.BackgroundTaskID != "bt-1" || got.ActualHours != 2.5 || !slices.Equal(got.Tags, []string{"a"}) ||
		got.Description != g.Description || got.Version != g.Version+1 {
		t.Errorf("patched: %+v", got)
	}
	_, err := svc.Update(ctx, user, g.ID, goal.Patch{Version: g.Version, Title: new("stale")})
	wantCode(t, "patch at a stale version", err, gathering.ECONFLICT)
	cleared := must(t, "clear")(svc.Update(ctx, user, g.ID,
		goal.Patch{Deadline: &time.Time{}, BackgroundTaskID: new(""), Tags: []string{}}))
	if !cleared.Deadline.IsZero() || cleared.BackgroundTaskID != "" || cleared.Tags != nil || cleared.Title != "final" {
		t.Errorf("cleared: %+v", cleared)
	}
	_, err = svc.Update(ctx, user, g.ID, goal.Patch{Title: new(""), Progress: new(101), Version: -1})
	wantCode(t, "invalid patch", err, gathering.EINVALID)
	if !slices.Equal(fieldsOf(err), []string{"progress_percent", "title", "version"}) {
		t.Errorf("invalid patch: fields %v", fieldsOf(err))
	}
}

func TestTreeAndDelete(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, db store.Store) {
		svc := goal.New(db, nil, goal.Options{})
		ctx := t.Context()
		agent := newAgent(t, db, "Ada").ID
		root := create(t, svc, agent, "root", 0)
		a := create(t, svc, agent, "a", root.ID)
		create(t, svc, agent, "a1", a.ID)
		create(t, svc, agent, "b", root.ID)
		tree, truncated, err := svc.Tree(ctx, root.ID)
		if err != nil || truncated || shape(tree) != "root(a(a1),b)" {
			t.Fatalf("tree %s, truncated %v, %v", shape(tree), truncated, err)
		}
		subs, err := svc.Subgoals(ctx, root.ID)
		if err != nil || len(subs) != 2 || subs[0].Title != "a" {
			t.Errorf("sub-goals %+v, %v", subs, err)
		}
		must(t, "start a1")(svc.Start(ctx, user, tree.Subgoals[0].Subgoals[0].ID))
		wantCode(t, "delete with an active sub-goal", svc.Delete(ctx, user, root.ID), gathering.ECONFLICT)
		must(t, "pause a1")(svc.Pause(ctx, user, tree.Subgoals[0].Subgoals[0].ID, ""))
		if err := svc.Delete(ctx, user, a.ID); err != nil {
			t.Fatal(err)
		}
		if tree, _, err := svc.Tree(ctx, root.ID); err != nil || shape(tree) != "root(b)" {
			t.Errorf("after deleting a: %s, %v", shape(tree), err)
		}
		_, err = svc.Subgoals(ctx, a.ID)
		wantCode(t, "sub-goals of a deleted goal", err, gathering.ENOTFOUND)
	})
}

// shape prints a tree as title(children,…).
func shape(t goal.Tree) string {
	if len(t.Subgoals) == 0 {
		return t.Title
	}
	var kids []string
	for _, s := range t.Subgoals {
		kids = append(kids, shape(s))
	}
	return t.Title + "(" + strings.Join(kids, ",") + ")"
}

func TestTreeIsBounded(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	svc := goal.New(db, nil, goal.Options{})
	agent := newAgent(t, db, "Ada").ID
	root := create(t, svc, agent, "root", 0)
	count := 1
	for i := 0; count <= goal.MaxTreeGoals; i++ {
		parent := create(t, svc, agent, "p", root.ID)
		count++
		for j := 0; j < store.MaxGoalChildren && count <= goal.MaxTreeGoals; j++ {
			create(t, svc, agent, "c", parent.ID)
			count++
		}
	}
	tree, truncated, err := svc.Tree(t.Context(), root.ID)
	if err != nil || !truncated || size(tree) != goal.MaxTreeGoals {
		t.Errorf("tree of %d goals: %d shown, truncated %v, %v; want %d shown, truncated", count, size(tree), truncated, err,
			goal.MaxTreeGoals)
	}
}

// size counts the goals of a tree.
func size(t goal.Tree) int {
	n := 1
	for _, s := range t.Subgoals {
		n += size(s)
	}
	return n
}

func TestDependencies(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	svc := goal.New(db, nil, goal.Options{})
	ctx := t.Context()
	agent := newAgent(t, db, "Ada").ID
	a, b := create(t, svc, agent, "a", 0), create(t, svc, agent, "b", 0)
	d, err := svc.AddDependency(ctx, user, a.ID, b.ID, store.GoalInforms)
	if err != nil || d.Type != store.GoalInforms || d.DependsOnTitle != "b" {
		t.Fatalf("AddDependency = %+v, %v", d, err)
	}
	_, err = svc.AddDependency(ctx, user, b.ID, a.ID, "")
	wantCode(t, "a cycle", err, gathering.ECONFLICT)
	for name, tc := range map[string]struct {
		dependsOn int64
		typ       store.GoalDependencyType
		fields    []string
	}{
		"itself":        {a.ID, "", []string{"depends_on_id"}},
		"missing goal":  {b.ID + 100, "", []string{"depends_on_id"}},
		"no goal":       {0, "needs", []string{"dependency_type", "depends_on_id"}},
		"unknown type":  {b.ID, "needs", []string{"dependency_type"}},
		"negative goal": {-1, "", []string{"depends_on_id"}},
	} {
		_, err := svc.AddDependency(ctx, user, a.ID, tc.dependsOn, tc.typ)
		if wantCode(t, name, err, gathering.EINVALID); !slices.Equal(fieldsOf(err), tc.fields) {
			t.Errorf("%s: fields %v, want %v", name, fieldsOf(err), tc.fields)
		}
	}
	_, err = svc.AddDependency(ctx, user, b.ID+100, a.ID, "")
	wantCode(t, "a missing goal depending", err, gathering.ENOTFOUND)
	deps, err := svc.Dependencies(ctx, a.ID)
	if err != nil || len(deps) != 1 || deps[0] != d {
		t.Errorf("Dependencies = %+v, %v", deps, err)
	}
	if err := svc.RemoveDependency(ctx, user, a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "remove it again", svc.RemoveDependency(ctx, user, a.ID, b.ID), gathering.ENOTFOUND)
	_, err = svc.Dependencies(ctx, b.ID+100)
	wantCode(t, "dependencies of a missing goal", err, gathering.ENOTFOUND)
}

func TestListChecks(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	svc := goal.New(db, nil, goal.Options{})
	agent := newAgent(t, db, "Ada").ID
	root := create(t, svc, agent, "root", 0)
	create(t, svc, agent, "sub", root.ID)
	must(t, "start")(svc.Start(t.Context(), user, root.ID))
	page, err := svc.List(t.Context(), store.GoalFilter{RootOnly: true}, store.Page{})
	if err != nil || page.Total != 1 || len(page.Goals) != 1 ||
		!reflect.DeepEqual(page.Counts, map[store.GoalStatus]int{"active": 1}) {
		t.Errorf("top-level goals: %+v, %v", page, err)
	}
	_, err = svc.List(t.Context(), store.GoalFilter{RootOnly: true, ParentID: root.ID, Status: "asleep"}, store.Page{})
	if wantCode(t, "an invalid filter", err, gathering.EINVALID); !slices.Equal(fieldsOf(err), []string{"root_only", "status"}) {
		t.Errorf("invalid filter: fields %v", fieldsOf(err))
	}
}

// TestEvents follows a goal's and its parent's topics while the goal
// moves, and checks the events' types, actors and data.
func TestEvents(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	bus := event.NewBus(event.Config{})
	if err := bus.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bus.Stop(context.Background()) })
	svc := goal.New(db, bus, goal.Options{})
	ctx := t.Context()
	ada := newAgent(t, db, "Ada")
	root := create(t, svc, ada.ID, "root", 0)
	topics := []string{goal.Topic(root.ID), "agent:" + itoa(ada.ID)}
	sub, err := bus.Subscribe(event.SubscribeOptions{Filter: event.Filter{Topics: topics}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	agent := goal.Actor{UserID: 3, AgentID: ada.ID}
	child := must(t, "create")(svc.Create(ctx, agent, goal.NewGoal{AgentID: ada.ID, Title: "child", ParentID: root.ID}))
	must(t, "start")(svc.Start(ctx, agent, child.ID))
	must(t, "progress")(svc.SetProgress(ctx, agent, child.ID, 40, "going"))
	must(t, "pause")(svc.Pause(ctx, user, child.ID, ""))
	must(t, "resume")(svc.Resume(ctx, user, child.ID))
	must(t, "complete")(svc.Complete(ctx, user, child.ID, ""))
	must(t, "update")(svc.Update(ctx, user, root.ID, goal.Patch{Title: new("Root")}))
	other := create(t, svc, ada.ID, "other", 0)
	if _, err := svc.AddDependency(ctx, user, other.ID, root.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveDependency(ctx, user, other.ID, root.ID); err != nil {
		t.Fatal(err)
	}
	must(t, "fail")(svc.Fail(ctx, user, other.ID, "no", ""))
	must(t, "cancel")(svc.Cancel(ctx, user, create(t, svc, ada.ID, "c", 0).ID, ""))
	must(t, "block")(svc.Block(ctx, user, create(t, svc, ada.ID, "b", 0).ID, ""))
	if err := svc.Delete(ctx, user, child.ID); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"goal.created agent:" + itoa(ada.ID) + " child", "goal.started agent:" + itoa(ada.ID) + " child",
		"goal.progress agent:" + itoa(ada.ID) + " child 40", "goal.progress agent:" + itoa(ada.ID) + " root 40 rollup",
		"goal.paused user:3 child 40", "goal.resumed user:3 child 40",
		"goal.completed user:3 child 100", "goal.progress user:3 root 100 rollup", "goal.updated user:3 Root 100",
		"goal.created user:3 other", "goal.dependency_added user:3 other", "goal.dependency_removed user:3 other",
		"goal.failed user:3 other", "goal.created user:3 c", "goal.cancelled user:3 c", "goal.created user:3 b",
		"goal.blocked user:3 b", "goal.deleted user:3 child 100",
	}
	for i, w := range want {
		select {
		case f := <-sub.Frames():
			if got := describe(t, f.Event); got != w {
				t.Errorf("event %d: %s, want %s", i, got, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d (%s) never came", i, w)
		}
	}
}

// describe prints an event as "type actor title [progress] [rollup]",
// the progress when not 0.
func describe(t *testing.T, e event.Event) string {
	t.Helper()
	var data struct {
		Title    string `json:"title"`
		Progress int    `json:"progress_percent"`
		Rollup   bool   `json:"rollup"`
	}
	if err := json.Unmarshal(e.Data, &data); err != nil {
		t.Fatal(err)
	}
	out := e.Type + " " + e.Actor + " " + data.Title
	if data.Progress != 0 {
		out += " " + itoa(int64(data.Progress))
	}
	if data.Rollup {
		out += " rollup"
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestPublishFailureKeepsTheWrite publishes on a stopped bus: the goal is
// stored all the same, and the failure is logged.
func TestPublishFailureKeepsTheWrite(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	bus := event.NewBus(event.Config{})
	if err := bus.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := bus.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	svc := goal.New(db, bus, goal.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	g := create(t, svc, newAgent(t, db, "Ada").ID, "kept", 0)
	if _, err := svc.Get(t.Context(), g.ID); err != nil {
		t.Errorf("the goal was not kept: %v", err)
	}
	if !strings.Contains(logs.String(), "publishing a goal event failed") || !strings.Contains(logs.String(), "type=created") {
		t.Errorf("logs: %q", logs.String())
	}
}

// TestGoalsSurviveARestart writes a hierarchy with dependencies and links,
// closes the store, opens it again on the same file or database and reads
// everything back.
func TestGoalsSurviveARestart(t *testing.T) {
	t.Parallel()
	reopen := map[string]func(t *testing.T) func() store.Store{
		"sqlite": func(t *testing.T) func() store.Store {
			path := filepath.Join(t.TempDir(), "gathering.db")
			return func() store.Store {
				db, err := sqlitestore.Open(t.Context(), sqlitestore.Config{Path: path})
				return migrated(t, db, err)
			}
		},
		"postgres": func(t *testing.T) func() store.Store {
			url := pgtest.URL(t)
			return func() store.Store {
				db, err := pgstore.Open(t.Context(), pgstore.Config{URL: url, MaxConns: 4})
				return migrated(t, db, err)
			}
		},
	}
	for name, opener := range reopen {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			open := opener(t)
			db := open()
			before := writeGoals(t, goal.New(db, nil, goal.Options{}), newAgent(t, db, "Ada").ID)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			db = open()
			defer db.Close()
			after := readGoals(t, goal.New(db, nil, goal.Options{}), before.root)
			if !reflect.DeepEqual(after, before) {
				t.Errorf("after a restart:\n%+v\nwant\n%+v", after, before)
			}
		})
	}
}

// migrated migrates a store just opened, or fails the test.
func migrated(t *testing.T, db store.Store, err error) store.Store {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

// written is what TestGoalsSurviveARestart compares.
type written struct {
	root  int64
	tree  goal.Tree
	child goal.Detail
	deps  []store.GoalDependency
}

func writeGoals(t *testing.T, svc *goal.Service, agent int64) written {
	ctx := t.Context()
	root := must(t, "root")(svc.Create(ctx, user, goal.NewGoal{AgentID: agent, Title: "root", CircleID: 4,
		Deadline: time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC), Tags: []string{"x"}, Context: json.RawMessage(`{"b": 1, "a": [2]}`)}))
	child := must(t, "child")(svc.Create(ctx, user, goal.NewGoal{AgentID: agent, Title: "child", ParentID: root.ID,
		CircleTaskID: 12, BackgroundTaskID: "bt-gone"}))
	other := create(t, svc, agent, "other", root.ID)
	must(t, "progress")(svc.SetProgress(ctx, user, child.ID, 30, "a third"))
	if _, err := svc.AddDependency(ctx, user, other.ID, child.ID, store.GoalBlocks); err != nil {
		t.Fatal(err)
	}
	return readGoals(t, svc, root.ID)
}

func readGoals(t *testing.T, svc *goal.Service, root int64) written {
	tree, _, err := svc.Tree(t.Context(), root)
	if err != nil || len(tree.Subgoals) != 2 {
		t.Fatalf("tree: %+v, %v", tree, err)
	}
	child, err := svc.Get(t.Context(), tree.Subgoals[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	deps, err := svc.Dependencies(t.Context(), tree.Subgoals[1].ID)
	if err != nil || len(deps) != 1 {
		t.Fatalf("dependencies: %+v, %v", deps, err)
	}
	return written{root: root, tree: tree, child: child, deps: deps}
}
