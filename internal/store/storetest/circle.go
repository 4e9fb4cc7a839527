package storetest

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// exerciseCircles runs the circle part of the suite, each test on a fresh migrated
// store.
func exerciseCircles(t *testing.T, migrated func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"CircleRoundTrip", testCircleRoundTrip},
		{"CircleInvalid", testCircleInvalid},
		{"CircleStatus", testCircleStatus},
		{"CircleMembers", testCircleMembers},
		{"CircleDetailInOneQuery", testCircleDetailInOneQuery},
		{"CircleTasks", testCircleTasks},
		{"CircleTaskChange", testCircleTaskChange},
		{"CircleTaskChangeOnce", testCircleTaskChangeOnce},
		{"CircleRoom", testCircleRoom},
		{"CircleConflicts", testCircleConflicts},
		{"CircleMetrics", testCircleMetrics},
		{"CircleDelete", testCircleDelete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { t.Parallel(); tt.test(t, migrated(t)) })
	}
}

// newCircle is a stopped circle named name by user 3 at minute n, holding
// at most 5 active tasks.
func newCircle(name string, n int) store.Circle {
	return store.Circle{Name: name, Description: "The " + name + " team", MaxConcurrentTasks: 5,
		Status: store.CircleStopped, CreatedBy: 3, CreatedAt: minutes(n), UpdatedAt: minutes(n)}
}

// createCircle stores c or fails the test.
func createCircle(t *testing.T, s store.Store, c store.Circle) store.Circle {
	t.Helper()
	got, err := s.CircleCreate(t.Context(), c)
	if err != nil {
		t.Fatalf("CircleCreate(%s): %v", c.Name, err)
	}
	return got
}

// join adds agent to circle with competencies, or fails the test.
func join(t *testing.T, s store.Store, circle, agent int64, canReview bool, competencies ...string) store.CircleMember {
	t.Helper()
	m, err := s.CircleMemberAdd(t.Context(), store.CircleMember{CircleID: circle, AgentID: agent, Competencies: competencies,
		CanReview: canReview, JoinedAt: minutes(5)}, 500)
	if err != nil {
		t.Fatalf("CircleMemberAdd(%d, %d): %v", circle, agent, err)
	}
	return m
}

// newCircleTask creates a task of priority 5 in circle, or fails the test.
func newCircleTask(t *testing.T, s store.Store, circle int64, title string, required ...string) store.CircleTask {
	t.Helper()
	got, err := s.CircleTaskCreate(t.Context(), store.CircleTask{CircleID: circle, Title: title, Description: "Do " + title,
		RequiredCompetencies: required, Priority: 5, CreatedBy: 3, CreatedAt: minutes(10), UpdatedAt: minutes(10)})
	if err != nil {
		t.Fatalf("CircleTaskCreate(%s): %v", title, err)
	}
	return got
}

// moveTask changes task from its current status to status (assigned to
// agent when it becomes active), or fails the test.
func moveTask(t *testing.T, s store.Store, task store.CircleTask, status store.TaskState, agent int64) store.CircleTask {
	t.Helper()
	got, err := s.CircleTaskChange(t.Context(), changeTo(task, status, agent))
	if err != nil {
		t.Fatalf("CircleTaskChange(%d to %s): %v", task.ID, status, err)
	}
	return got
}

// changeTo is the change of task to status, assigned to agent.
func changeTo(task store.CircleTask, status store.TaskState, agent int64) store.CircleTaskChange {
	next := task
	next.Status, next.AssignedAgentID, next.UpdatedAt = status, agent, task.UpdatedAt.Add(time.Minute)
	return store.CircleTaskChange{Task: next, From: task.Status, FromBackgroundTask: task.BackgroundTaskID}
}

// circleFixture is a circle with n agents of one persona, all members.
type circleFixture struct {
	circle  store.Circle
	persona store.Persona
	agents  []store.Agent
}

// newCircleFixture creates a circle named name and n member agents.
func newCircleFixture(t *testing.T, s store.Store, name string, n int) circleFixture {
	t.Helper()
	f := circleFixture{circle: createCircle(t, s, newCircle(name, 1)), persona: newPersona(t, s, "Persona of "+name, false)}
	for i := range n {
		a := newAgent(t, s, fmt.Sprintf("%s-agent-%02d", name, i), f.persona.ID)
		join(t, s, f.circle.ID, a.ID, i%2 == 0, fmt.Sprintf("skill-%d", i))
		f.agents = append(f.agents, a)
	}
	return f
}

func testCircleRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	project := createProject(t, s, newProject("circles", 1))
	full := store.Circle{Name: "Core.team_1-x", Description: "Ünïcode «core»", RequireReview: true, AutoRoute: true,
		MaxConcurrentTasks: 100, ProjectID: project.ID, Status: store.CircleRunning, CreatedBy: 9,
		CreatedAt: minutes(1).Add(123 * time.Millisecond), UpdatedAt: minutes(2), StartedAt: minutes(3)}
	got := createCircle(t, s, full)
	want := full
	want.ID = got.ID
	if got.ID == 0 || !reflect.DeepEqual(got, want) {
		t.Fatalf("CircleCreate = %+v;\nwant %+v", got, want)
	}
	for _, load := range []func() (store.Circle, error){
		func() (store.Circle, error) { return s.CircleGet(ctx, full.Name) },
		func() (store.Circle, error) { return s.CircleGet(ctx, "core.TEAM_1-x") },
		func() (store.Circle, error) { return s.CircleGetByID(ctx, got.ID) },
		func() (store.Circle, error) { d, err := s.CircleDetail(ctx, "CORE.team_1-X"); return d.Circle, err },
	} {
		if c, err := load(); err != nil || !reflect.DeepEqual(c, want) {
			t.Errorf("load = %+v, %v;\nwant %+v", c, err, want)
		}
	}
	_, err := s.CircleCreate(ctx, newCircle("CORE.TEAM_1-X", 4))
	wantCode(t, "CircleCreate of a taken name in another case", err, gathering.ECONFLICT)
	_, err = s.CircleCreate(ctx, store.Circle{Name: "orphan", MaxConcurrentTasks: 1, Status: store.CircleStopped, ProjectID: 999_999,
		CreatedAt: base, UpdatedAt: base})
	wantCode(t, "CircleCreate with a missing project", err, gathering.ENOTFOUND)
	other := createCircle(t, s, newCircle("other", 5))
	if other.ProjectID != 0 || !other.StartedAt.IsZero() {
		t.Errorf("a circle without project or start = %+v", other)
	}

	list, total, err := s.CircleList(ctx, store.CircleFilter{}, store.Page{})
	if err != nil || total != 2 || len(list) != 2 || list[0].ID != got.ID || list[1].ID != other.ID {
		t.Errorf("CircleList = %+v, %d, %v", list, total, err)
	}
	list, total, err = s.CircleList(ctx, store.CircleFilter{ProjectID: project.ID, Status: store.CircleRunning}, store.Page{Limit: 1})
	if err != nil || total != 1 || len(list) != 1 || list[0].ID != got.ID {
		t.Errorf("CircleList of the project's running circles = %+v, %d, %v", list, total, err)
	}
	_, _, err = s.CircleList(ctx, store.CircleFilter{Status: "paused"}, store.Page{})
	wantCode(t, "CircleList of an unknown status", err, gathering.EINVALID)

	upd := got
	upd.Description, upd.RequireReview, upd.AutoRoute, upd.MaxConcurrentTasks, upd.ProjectID = "", false, false, 1, 0
	upd.UpdatedAt = minutes(9)
	upd.Name, upd.Status = "ignored", store.CircleStopped // not written by CircleUpdate
	updated, err := s.CircleUpdate(ctx, upd)
	upd.Name, upd.Status = got.Name, got.Status
	if err != nil || !reflect.DeepEqual(updated, upd) {
		t.Errorf("CircleUpdate = %+v, %v;\nwant %+v", updated, err, upd)
	}
	upd.ID, upd.ProjectID = other.ID, 424242
	_, err = s.CircleUpdate(ctx, upd)
	wantCode(t, "CircleUpdate with a missing project", err, gathering.ENOTFOUND)
	upd.ID, upd.ProjectID = 999_999, 0
	_, err = s.CircleUpdate(ctx, upd)
	wantCode(t, "CircleUpdate of a missing circle", err, gathering.ENOTFOUND)

	if err := s.ProjectDelete(ctx, project.ID); err != nil {
		t.Fatal(err)
	}
	linked := createCircle(t, s, store.Circle{Name: "linked", MaxConcurrentTasks: 1, Status: store.CircleStopped,
		ProjectID: createProject(t, s, newProject("gone", 2)).ID, CreatedAt: base, UpdatedAt: base})
	if err := s.ProjectDelete(ctx, linked.ProjectID); err != nil {
		t.Fatal(err)
	}
	if c, err := s.CircleGetByID(ctx, linked.ID); err != nil || c.ProjectID != 0 {
		t.Errorf("after its project's deletion, circle = %+v, %v; want no project", c, err)
	}
}

func testCircleInvalid(t *testing.T, s store.Store) {
	for name, c := range map[string]store.Circle{
		"empty name":      {Name: "", MaxConcurrentTasks: 1, Status: store.CircleStopped},
		"leading dot":     {Name: ".hidden", MaxConcurrentTasks: 1, Status: store.CircleStopped},
		"slash":           {Name: "a/b", MaxConcurrentTasks: 1, Status: store.CircleStopped},
		"space":           {Name: "a b", MaxConcurrentTasks: 1, Status: store.CircleStopped},
		"not ASCII":       {Name: "é", MaxConcurrentTasks: 1, Status: store.CircleStopped},
		"65 characters":   {Name: fmt.Sprintf("a%064d", 0), MaxConcurrentTasks: 1, Status: store.CircleStopped},
		"no task allowed": {Name: "zero", MaxConcurrentTasks: 0, Status: store.CircleStopped},
		"101 tasks":       {Name: "many", MaxConcurrentTasks: 101, Status: store.CircleStopped},
		"unknown status":  {Name: "paused", MaxConcurrentTasks: 1, Status: "paused"},
	} {
		_, err := s.CircleCreate(t.Context(), c)
		wantCode(t, "CircleCreate with "+name, err, gathering.EINVALID)
	}
	if _, err := s.CircleCreate(t.Context(), store.Circle{Name: fmt.Sprintf("a%063d", 0), MaxConcurrentTasks: 1,
		Status: store.CircleStopped, CreatedAt: base, UpdatedAt: base}); err != nil {
		t.Errorf("CircleCreate of a 64-character name: %v", err)
	}
	_, err := s.CircleTaskCreate(t.Context(), store.CircleTask{CircleID: 999_999, Title: "t", Priority: 5, CreatedAt: base, UpdatedAt: base})
	wantCode(t, "CircleTaskCreate in a missing circle", err, gathering.ENOTFOUND)
	c := createCircle(t, s, newCircle("tasks", 1))
	for name, task := range map[string]store.CircleTask{
		"no title":    {CircleID: c.ID, Priority: 5},
		"priority 0":  {CircleID: c.ID, Title: "t", Priority: 0},
		"priority 11": {CircleID: c.ID, Title: "t", Priority: 11},
	} {
		_, err := s.CircleTaskCreate(t.Context(), task)
		wantCode(t, "CircleTaskCreate with "+name, err, gathering.EINVALID)
	}
}

func testCircleStatus(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := createCircle(t, s, newCircle("switch", 1))
	started, err := s.CircleSetStatus(ctx, c.ID, store.CircleStopped, store.CircleRunning, minutes(7))
	if err != nil || started.Status != store.CircleRunning || !started.StartedAt.Equal(minutes(7)) || !started.UpdatedAt.Equal(minutes(7)) {
		t.Fatalf("start = %+v, %v", started, err)
	}
	_, err = s.CircleSetStatus(ctx, c.ID, store.CircleStopped, store.CircleRunning, minutes(8))
	wantCode(t, "starting a running circle", err, gathering.ECONFLICT)
	stopped, err := s.CircleSetStatus(ctx, c.ID, store.CircleRunning, store.CircleStopped, minutes(9))
	if err != nil || stopped.Status != store.CircleStopped || !stopped.StartedAt.Equal(minutes(7)) {
		t.Errorf("stop = %+v, %v; want stopped, started at minute 7", stopped, err)
	}
	_, err = s.CircleSetStatus(ctx, 999_999, store.CircleStopped, store.CircleRunning, minutes(8))
	wantCode(t, "starting a missing circle", err, gathering.ENOTFOUND)
	_, err = s.CircleSetStatus(ctx, c.ID, store.CircleStopped, "paused", minutes(8))
	wantCode(t, "an unknown status", err, gathering.EINVALID)
}

func testCircleMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newCircleFixture(t, s, "members", 2)
	stranger := newAgent(t, s, "stranger", f.persona.ID)
	m, err := s.CircleMemberAdd(ctx, store.CircleMember{CircleID: f.circle.ID, AgentID: stranger.ID, CanReview: true,
		JoinedAt: minutes(6).Add(7 * time.Millisecond)}, 3)
	want := store.CircleMember{CircleID: f.circle.ID, AgentID: stranger.ID, Competencies: []string{}, CanReview: true,
		JoinedAt: minutes(6).Add(7 * time.Millisecond)}
	if err != nil || !reflect.DeepEqual(m, want) {
		t.Errorf("CircleMemberAdd = %+v, %v;\nwant %+v", m, err, want)
	}
	late := newAgent(t, s, "late", f.persona.ID)
	_, err = s.CircleMemberAdd(ctx, store.CircleMember{CircleID: f.circle.ID, AgentID: late.ID, JoinedAt: base}, 3)
	wantCode(t, "CircleMemberAdd to a full circle", err, gathering.ECONFLICT)
	_, err = s.CircleMemberAdd(ctx, store.CircleMember{CircleID: f.circle.ID, AgentID: stranger.ID, JoinedAt: base}, 10)
	wantCode(t, "CircleMemberAdd of a member", err, gathering.ECONFLICT)
	_, err = s.CircleMemberAdd(ctx, store.CircleMember{CircleID: f.circle.ID, AgentID: 999_999, JoinedAt: base}, 10)
	wantCode(t, "CircleMemberAdd of a missing agent", err, gathering.ENOTFOUND)
	_, err = s.CircleMemberAdd(ctx, store.CircleMember{CircleID: 999_999, AgentID: late.ID, JoinedAt: base}, 10)
	wantCode(t, "CircleMemberAdd to a missing circle", err, gathering.ENOTFOUND)

	task := moveTask(t, s, newCircleTask(t, s, f.circle.ID, "busy"), store.TaskAssigned, f.agents[0].ID)
	wantCode(t, "removing the assignee of an active task", s.CircleMemberRemove(ctx, f.circle.ID, f.agents[0].ID), gathering.ECONFLICT)
	review := changeTo(task, store.TaskInReview, f.agents[0].ID)
	review.Task.ReviewerID = f.agents[1].ID
	if _, err := s.CircleTaskChange(ctx, review); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "removing the reviewer of a task in review", s.CircleMemberRemove(ctx, f.circle.ID, f.agents[1].ID), gathering.ECONFLICT)
	if err := s.CircleMemberRemove(ctx, f.circle.ID, stranger.ID); err != nil {
		t.Errorf("CircleMemberRemove: %v", err)
	}
	wantCode(t, "removing a non-member", s.CircleMemberRemove(ctx, f.circle.ID, stranger.ID), gathering.ENOTFOUND)
	join(t, s, f.circle.ID, stranger.ID, false)
	if err := s.AgentDelete(ctx, stranger.ID); err != nil {
		t.Fatalf("AgentDelete of a member: %v", err)
	}
	d, err := s.CircleDetail(ctx, f.circle.Name)
	if err != nil || len(d.Members) != 2 {
		t.Errorf("after a member agent's deletion, detail = %+v, %v; want its 2 other members", d, err)
	}
}

// testCircleDetailInOneQuery loads a circle of 20 members with their
// agents and personas, and checks that it took exactly one statement
// (PERF-02: no query per member).
func testCircleDetailInOneQuery(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newCircleFixture(t, s, "twenty", 20)
	other := newPersona(t, s, "Second persona", false)
	odd := newAgent(t, s, "odd-one", other.ID)
	join(t, s, f.circle.ID, odd.ID, true, "go", "sql")
	a := moveTask(t, s, newCircleTask(t, s, f.circle.ID, "a"), store.TaskAssigned, f.agents[3].ID)
	moveTask(t, s, newCircleTask(t, s, f.circle.ID, "b"), store.TaskAssigned, f.agents[3].ID)
	newCircleTask(t, s, f.circle.ID, "c")
	inReview := changeTo(a, store.TaskInReview, f.agents[3].ID)
	inReview.Task.ReviewerID = odd.ID
	if _, err := s.CircleTaskChange(ctx, inReview); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CircleTouch(ctx, a.ID, []string{"x.go"}, minutes(11)); err != nil {
		t.Fatal(err)
	}
	before := s.Stats().Statements
	d, err := s.CircleDetail(ctx, f.circle.Name)
	if n := s.Stats().Statements - before; n != 1 {
		t.Errorf("CircleDetail of a circle of 21 members ran %d statements, want 1", n)
	}
	if err != nil {
		t.Fatalf("CircleDetail: %v", err)
	}
	if !reflect.DeepEqual(d.Circle, f.circle) || d.OpenConflicts != 0 ||
		!reflect.DeepEqual(d.TaskCounts, map[store.TaskState]int{store.TaskPending: 1, store.TaskAssigned: 1, store.TaskInReview: 1}) {
		t.Errorf("detail circle %+v, counts %v, open conflicts %d", d.Circle, d.TaskCounts, d.OpenConflicts)
	}
	if len(d.Members) != 21 {
		t.Fatalf("%d members, want 21", len(d.Members))
	}
	for i, ag := range f.agents {
		m := d.Members[i]
		want := store.CircleMemberDetail{CircleMember: store.CircleMember{CircleID: f.circle.ID, AgentID: ag.ID,
			Competencies: []string{fmt.Sprintf("skill-%d", i)}, CanReview: i%2 == 0, JoinedAt: minutes(5)},
			AgentName: ag.Name, Provider: ag.Provider, Model: ag.Model, PersonaID: f.persona.ID, PersonaName: f.persona.DisplayName}
		if i == 3 {
			want.Workload = 2
		}
		if !reflect.DeepEqual(m, want) {
			t.Errorf("member %d = %+v;\nwant %+v", i, m, want)
		}
	}
	if last := d.Members[20]; last.AgentID != odd.ID || last.PersonaName != "Second persona" || last.Reviewing != 1 ||
		!slices.Equal(last.Competencies, []string{"go", "sql"}) {
		t.Errorf("last member %+v", last)
	}
	empty := createCircle(t, s, newCircle("empty", 2))
	before = s.Stats().Statements
	d, err = s.CircleDetail(ctx, "empty")
	if n := s.Stats().Statements - before; err != nil || n != 1 || d.ID != empty.ID || d.Members == nil || len(d.Members) != 0 ||
		len(d.TaskCounts) != 0 {
		t.Errorf("detail of an empty circle = %+v, %v in %d statements", d, err, n)
	}
	_, err = s.CircleDetail(ctx, "missing")
	wantCode(t, "CircleDetail of a missing circle", err, gathering.ENOTFOUND)
}

func testCircleTasks(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newCircleFixture(t, s, "tasks", 2)
	task, err := s.CircleTaskCreate(ctx, store.CircleTask{CircleID: f.circle.ID, Title: "Ship ✓", Description: "All of it",
		RequiredCompetencies: []string{"go", "Ops"}, Priority: 9, Status: store.TaskDone, AssignedAgentID: 4, Result: "ignored",
		CreatedBy: 8, CreatedAt: minutes(3).Add(5 * time.Millisecond), UpdatedAt: minutes(4)})
	want := store.CircleTask{ID: task.ID, CircleID: f.circle.ID, Title: "Ship ✓", Description: "All of it",
		RequiredCompetencies: []string{"go", "Ops"}, Priority: 9, Status: store.TaskPending, FilesModified: []string{},
		CreatedBy: 8, CreatedAt: minutes(3).Add(5 * time.Millisecond), UpdatedAt: minutes(4)}
	if err != nil || !reflect.DeepEqual(task, want) {
		t.Fatalf("CircleTaskCreate = %+v, %v;\nwant %+v", task, err, want)
	}
	if got, err := s.CircleTaskGet(ctx, task.ID); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("CircleTaskGet = %+v, %v", got, err)
	}
	_, err = s.CircleTaskGet(ctx, 999_999)
	wantCode(t, "CircleTaskGet of a missing task", err, gathering.ENOTFOUND)
	low := newCircleTask(t, s, f.circle.ID, "low")
	low2 := newCircleTask(t, s, f.circle.ID, "low too")
	mine := moveTask(t, s, newCircleTask(t, s, f.circle.ID, "mine"), store.TaskAssigned, f.agents[1].ID)
	started := changeTo(mine, store.TaskInProgress, f.agents[1].ID)
	started.Task.BackgroundTaskID = "bg-1"
	if mine, err = s.CircleTaskChange(ctx, started); err != nil {
		t.Fatal(err)
	}
	pending, err := s.CircleTaskPending(ctx, f.circle.ID, 10)
	if err != nil || len(pending) != 3 || pending[0].ID != task.ID || pending[1].ID != low.ID || pending[2].ID != low2.ID {
		t.Errorf("CircleTaskPending = %+v, %v; want by priority, then age", pending, err)
	}
	if pending, _ := s.CircleTaskPending(ctx, f.circle.ID, 1); len(pending) != 1 {
		t.Errorf("CircleTaskPending with limit 1 = %d tasks", len(pending))
	}
	project := createProject(t, s, newProject("p", 1))
	linked := f.circle
	linked.ProjectID = project.ID
	if _, err := s.CircleUpdate(ctx, linked); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		f    store.CircleTaskFilter
		want []int64
	}{
		"all":             {store.CircleTaskFilter{CircleID: f.circle.ID}, []int64{task.ID, low.ID, low2.ID, mine.ID}},
		"pending":         {store.CircleTaskFilter{CircleID: f.circle.ID, Status: store.TaskPending}, []int64{task.ID, low.ID, low2.ID}},
		"active":          {store.CircleTaskFilter{Active: true}, []int64{mine.ID}},
		"agent":           {store.CircleTaskFilter{AgentID: f.agents[1].ID}, []int64{mine.ID}},
		"project":         {store.CircleTaskFilter{ProjectID: project.ID, Active: true}, []int64{mine.ID}},
		"other project":   {store.CircleTaskFilter{ProjectID: project.ID + 1}, nil},
		"background task": {store.CircleTaskFilter{BackgroundTaskID: "bg-1"}, []int64{mine.ID}},
		"other circle":    {store.CircleTaskFilter{CircleID: f.circle.ID + 1}, nil},
		"after an id":     {store.CircleTaskFilter{CircleID: f.circle.ID, AfterID: low.ID}, []int64{low2.ID, mine.ID}},
	} {
		list, total, err := s.CircleTaskList(ctx, tc.f, store.Page{})
		var ids []int64
		for _, l := range list {
			ids = append(ids, l.ID)
		}
		if err != nil || total != len(tc.want) || !slices.Equal(ids, tc.want) {
			t.Errorf("CircleTaskList(%s) = %v, %d, %v; want %v", name, ids, total, err, tc.want)
		}
	}
	list, total, err := s.CircleTaskList(ctx, store.CircleTaskFilter{CircleID: f.circle.ID}, store.Page{Limit: 2, Offset: 1})
	if err != nil || total != 4 || len(list) != 2 || list[0].ID != low.ID {
		t.Errorf("second page = %+v, %d, %v", list, total, err)
	}
	_, _, err = s.CircleTaskList(ctx, store.CircleTaskFilter{Status: "sleeping"}, store.Page{})
	wantCode(t, "CircleTaskList of an unknown status", err, gathering.EINVALID)
}

func testCircleTaskChange(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newCircleFixture(t, s, "change", 2)
	task := newCircleTask(t, s, f.circle.ID, "work")
	_, err := s.CircleTaskChange(ctx, changeTo(task, store.TaskAssigned, 0))
	wantCode(t, "assigning to nobody", err, gathering.EINVALID)
	_, err = s.CircleTaskChange(ctx, changeTo(task, store.TaskPending, f.agents[0].ID))
	wantCode(t, "a pending task with an assignee", err, gathering.EINVALID)
	_, err = s.CircleTaskChange(ctx, changeTo(task, "sleeping", f.agents[0].ID))
	wantCode(t, "an unknown status", err, gathering.EINVALID)
	stale := changeTo(task, store.TaskAssigned, f.agents[0].ID)
	stale.From = store.TaskInProgress
	_, err = s.CircleTaskChange(ctx, stale)
	wantCode(t, "a change from a status the task does not have", err, gathering.ECONFLICT)
	missing := changeTo(task, store.TaskAssigned, f.agents[0].ID)
	missing.Task.ID = 999_999
	_, err = s.CircleTaskChange(ctx, missing)
	wantCode(t, "a change of a missing task", err, gathering.ENOTFOUND)

	assigned := moveTask(t, s, task, store.TaskAssigned, f.agents[0].ID)
	start := changeTo(assigned, store.TaskInProgress, f.agents[0].ID)
	start.Task.BackgroundTaskID, start.Task.StartedAt = "bg-1", minutes(20)
	working, err := s.CircleTaskChange(ctx, start)
	if err != nil || working.BackgroundTaskID != "bg-1" || !working.StartedAt.Equal(minutes(20)) || working.Status != store.TaskInProgress {
		t.Fatalf("start = %+v, %v", working, err)
	}
	wrongBackground := changeTo(working, store.TaskInReview, f.agents[0].ID)
	wrongBackground.FromBackgroundTask = "bg-2"
	_, err = s.CircleTaskChange(ctx, wrongBackground)
	wantCode(t, "a change expecting another background task", err, gathering.ECONFLICT)
	noBackground := changeTo(working, store.TaskInReview, f.agents[0].ID)
	noBackground.FromBackgroundTask = ""
	_, err = s.CircleTaskChange(ctx, noBackground)
	wantCode(t, "a change expecting no background task", err, gathering.ECONFLICT)

	submit := changeTo(working, store.TaskInReview, f.agents[0].ID)
	submit.Task.Result, submit.Task.FilesModified, submit.Task.ReviewerID = "done ✓", []string{"a.go", "b/c.go"}, f.agents[1].ID
	inReview, err := s.CircleTaskChange(ctx, submit)
	if err != nil || inReview.Result != "done ✓" || !slices.Equal(inReview.FilesModified, []string{"a.go", "b/c.go"}) ||
		inReview.ReviewerID != f.agents[1].ID || inReview.BackgroundTaskID != "bg-1" {
		t.Fatalf("submit = %+v, %v", inReview, err)
	}
	reject := changeTo(inReview, store.TaskInProgress, f.agents[0].ID)
	reject.Task.Feedback, reject.Task.BackgroundTaskID = "Tests are missing.", ""
	reject.Review = &store.CircleReview{AssigneeID: f.agents[0].ID, ReviewerID: f.agents[1].ID, Comment: "Tests are missing.", At: minutes(30)}
	back, err := s.CircleTaskChange(ctx, reject)
	if err != nil || back.Feedback != "Tests are missing." || back.BackgroundTaskID != "" || back.Status != store.TaskInProgress {
		t.Fatalf("reject = %+v, %v", back, err)
	}
	resubmit := changeTo(back, store.TaskInReview, f.agents[0].ID)
	again := moveTaskChange(t, s, resubmit)
	approve := changeTo(again, store.TaskDone, f.agents[0].ID)
	approve.Task.CompletedAt = minutes(40)
	approve.Review = &store.CircleReview{AssigneeID: f.agents[0].ID, ReviewerID: f.agents[1].ID, Approved: true, At: minutes(40)}
	done := moveTaskChange(t, s, approve)
	if !done.CompletedAt.Equal(minutes(40)) || done.Status != store.TaskDone {
		t.Errorf("approve = %+v", done)
	}
	reviews, err := s.CircleTaskReviews(ctx, task.ID)
	if err != nil || len(reviews) != 2 || reviews[0].Approved || !reviews[1].Approved || reviews[0].Comment != "Tests are missing." ||
		reviews[0].TaskID != task.ID || reviews[0].CircleID != f.circle.ID || !reviews[1].At.Equal(minutes(40)) {
		t.Errorf("CircleTaskReviews = %+v, %v", reviews, err)
	}
}

// moveTaskChange applies c or fails the test.
func moveTaskChange(t *testing.T, s store.Store, c store.CircleTaskChange) store.CircleTask {
	t.Helper()
	got, err := s.CircleTaskChange(t.Context(), c)
	if err != nil {
		t.Fatalf("CircleTaskChange(%d from %s to %s): %v", c.Task.ID, c.From, c.Task.Status, err)
	}
	return got
}

// testCircleTaskChangeOnce makes the same change from many goroutines at
// once, as several instances hearing one event would: exactly one applies.
func testCircleTaskChangeOnce(t *testing.T, s store.Store) {
	f := newCircleFixture(t, s, "once", 2)
	task := moveTask(t, s, newCircleTask(t, s, f.circle.ID, "race"), store.TaskAssigned, f.agents[0].ID)
	const racers = 8
	var wg sync.WaitGroup
	codes := make([]string, racers)
	for i := range racers {
		wg.Go(func() {
			c := changeTo(task, store.TaskInProgress, f.agents[0].ID)
			c.Task.BackgroundTaskID = fmt.Sprintf("bg-%d", i)
			_, err := s.CircleTaskChange(t.Context(), c)
			codes[i] = gathering.ErrorCode(err)
		})
	}
	wg.Wait()
	won := 0
	for _, code := range codes {
		switch code {
		case "":
			won++
		case gathering.ECONFLICT:
		default:
			t.Errorf("a racing change failed with %q", code)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d racing changes applied (%v), want 1", won, racers, codes)
	}
}

// testCircleRoom fills a circle of 2 active tasks at most, from many
// goroutines at once: exactly 2 assignments apply; a slot that frees lets
// one more in.
func testCircleRoom(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newCircle("room", 1)
	c.MaxConcurrentTasks = 2
	f := circleFixture{circle: createCircle(t, s, c), persona: newPersona(t, s, "Roomy", false)}
	agent := newAgent(t, s, "roomy", f.persona.ID)
	join(t, s, f.circle.ID, agent.ID, false)
	var tasks []store.CircleTask
	for i := range 6 {
		tasks = append(tasks, newCircleTask(t, s, f.circle.ID, fmt.Sprintf("t%d", i)))
	}
	var wg sync.WaitGroup
	codes := make([]string, len(tasks))
	for i, task := range tasks {
		wg.Go(func() {
			_, err := s.CircleTaskChange(ctx, changeTo(task, store.TaskAssigned, agent.ID))
			codes[i] = gathering.ErrorCode(err)
		})
	}
	wg.Wait()
	var won []store.CircleTask
	for i, code := range codes {
		switch code {
		case "":
			won = append(won, tasks[i])
		case gathering.ECONFLICT:
		default:
			t.Errorf("an assignment failed with %q", code)
		}
	}
	if len(won) != 2 {
		t.Fatalf("%d assignments applied (%v), want 2", len(won), codes)
	}
	first, err := s.CircleTaskGet(ctx, won[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	moveTask(t, s, first, store.TaskInProgress, agent.ID) // active to active: no room needed
	first, _ = s.CircleTaskGet(ctx, won[0].ID)
	moveTask(t, s, first, store.TaskFailedOut, agent.ID)
	var rest []store.CircleTask
	for _, task := range tasks {
		if !slices.ContainsFunc(won, func(w store.CircleTask) bool { return w.ID == task.ID }) {
			rest = append(rest, task)
		}
	}
	moveTask(t, s, rest[0], store.TaskAssigned, agent.ID)
	_, err = s.CircleTaskChange(ctx, changeTo(rest[1], store.TaskAssigned, agent.ID))
	wantCode(t, "an assignment in a full circle", err, gathering.ECONFLICT)
}

func testCircleConflicts(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newCircleFixture(t, s, "clash", 3)
	a, b, c := f.agents[0].ID, f.agents[1].ID, f.agents[2].ID
	ta := moveTask(t, s, newCircleTask(t, s, f.circle.ID, "a"), store.TaskAssigned, a)
	tb := moveTask(t, s, newCircleTask(t, s, f.circle.ID, "b"), store.TaskAssigned, b)
	ta2 := moveTask(t, s, newCircleTask(t, s, f.circle.ID, "a2"), store.TaskAssigned, a)
	tc := moveTask(t, s, newCircleTask(t, s, f.circle.ID, "c"), store.TaskAssigned, c)
	idle := newCircleTask(t, s, f.circle.ID, "idle")

	touch := func(task store.CircleTask, n int, paths ...string) []store.CircleConflict {
		t.Helper()
		got, err := s.CircleTouch(ctx, task.ID, paths, minutes(n))
		if err != nil {
			t.Fatalf("CircleTouch(%d, %v): %v", task.ID, paths, err)
		}
		return got
	}
	if got := touch(tb, 20, "main.go", "README.md"); len(got) != 0 {
		t.Errorf("first touch opened %+v", got)
	}
	if got := touch(ta2, 21, "README.md"); len(got) != 1 {
		t.Errorf("a's touch of README.md opened %+v, want 1", got)
	}
	got := touch(ta, 22, "main.go", "README.md", "other.go")
	want := store.CircleConflict{CircleID: f.circle.ID, Path: "main.go", AgentA: a, TaskA: ta.ID, AgentB: b, TaskB: tb.ID, DetectedAt: minutes(22)}
	if len(got) != 1 || got[0].ID == 0 {
		t.Fatalf("a's touch of main.go opened %+v, want one conflict (README.md is open already)", got)
	}
	want.ID = got[0].ID
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("conflict %+v;\nwant %+v", got[0], want)
	}
	if got := touch(ta2, 23, "main.go", "other.go"); len(got) != 0 {
		t.Errorf("the same agent's other task opened %+v; want none (open already, and a's own file)", got)
	}
	if got := touch(idle, 24, "main.go"); len(got) != 0 {
		t.Errorf("a pending task's touch opened %+v", got)
	}
	both := touch(tc, 25, "main.go")
	slices.SortFunc(both, func(x, y store.CircleConflict) int { return int(x.AgentA - y.AgentA) })
	if len(both) != 2 || both[0].AgentA != a || both[0].AgentB != c || both[0].TaskB != tc.ID || both[1].AgentA != b ||
		both[1].AgentB != c || both[1].TaskA != tb.ID {
		t.Errorf("c's touch of main.go opened %+v, want one with a and one with b", both)
	}
	_, err := s.CircleTouch(ctx, 999_999, []string{"x"}, minutes(1))
	wantCode(t, "CircleTouch of a missing task", err, gathering.ENOTFOUND)

	open, closed := true, false
	list, total, err := s.CircleConflictList(ctx, f.circle.ID, &open, store.Page{})
	if err != nil || total != 4 || len(list) != 4 || list[1].ID != want.ID {
		t.Fatalf("open conflicts = %+v, %d, %v", list, total, err)
	}
	resolved, err := s.CircleConflictResolve(ctx, f.circle.ID, want.ID, "a keeps main.go", minutes(30))
	if err != nil || !resolved.ResolvedAt.Equal(minutes(30)) || resolved.Resolution != "a keeps main.go" {
		t.Errorf("CircleConflictResolve = %+v, %v", resolved, err)
	}
	_, err = s.CircleConflictResolve(ctx, f.circle.ID, want.ID, "", minutes(31))
	wantCode(t, "resolving a resolved conflict", err, gathering.ECONFLICT)
	_, err = s.CircleConflictResolve(ctx, f.circle.ID+1, want.ID, "", minutes(31))
	wantCode(t, "resolving another circle's conflict", err, gathering.ENOTFOUND)
	if _, total, _ := s.CircleConflictList(ctx, f.circle.ID, &open, store.Page{}); total != 3 {
		t.Errorf("%d open conflicts after a resolution, want 3", total)
	}
	if list, total, _ := s.CircleConflictList(ctx, f.circle.ID, &closed, store.Page{}); total != 1 || list[0].ID != want.ID {
		t.Errorf("resolved conflicts = %+v", list)
	}
	if got := touch(ta, 32, "main.go"); len(got) != 1 || got[0].ID == want.ID {
		t.Errorf("touching main.go again after the resolution opened %+v, want a new conflict", got)
	}
	if _, total, _ := s.CircleConflictList(ctx, f.circle.ID, nil, store.Page{Limit: 1}); total != 5 {
		t.Errorf("%d conflicts in all, want 5", total)
	}
	d, err := s.CircleDetail(ctx, f.circle.Name)
	if err != nil || d.OpenConflicts != 4 {
		t.Errorf("detail shows %d open conflicts, %v; want 4", d.OpenConflicts, err)
	}
}

func testCircleMetrics(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newCircleFixture(t, s, "metrics", 3) // joined at minute 5
	a, b := f.agents[0].ID, f.agents[1].ID
	finish := func(agent int64, status store.TaskState, reviews ...bool) {
		t.Helper()
		task := moveTask(t, s, newCircleTask(t, s, f.circle.ID, "t"), store.TaskAssigned, agent)
		task = moveTask(t, s, task, store.TaskInReview, agent)
		for _, ok := range reviews {
			next := store.TaskInProgress
			if ok {
				next = store.TaskDone
			}
			c := changeTo(task, next, agent)
			c.Review = &store.CircleReview{AssigneeID: agent, ReviewerID: b, Approved: ok, At: minutes(50)}
			task = moveTaskChange(t, s, c)
			if !ok {
				task = moveTask(t, s, task, store.TaskInReview, agent)
			}
		}
		if status != task.Status {
			moveTask(t, s, task, status, agent)
		}
	}
	finish(a, store.TaskDone, false, true)
	finish(a, store.TaskDone, true)
	finish(a, store.TaskFailedOut)
	finish(b, store.TaskInReview)
	for _, u := range []store.UsageRecord{
		{At: minutes(4), AgentID: a, Provider: "p", Model: "m", InputTokens: 1000, OutputTokens: 1000, Cost: 10, Outcome: "ok"},
		{At: minutes(5), AgentID: a, Provider: "p", Model: "m", InputTokens: 100, OutputTokens: 10, Cost: 0.25, Outcome: "ok"},
		{At: minutes(60), AgentID: a, Provider: "p", Model: "m", InputTokens: 20, OutputTokens: 2, Cost: 0.5, Outcome: "ok"},
		{At: minutes(61), AgentID: b, Provider: "p", Model: "m", InputTokens: 7, OutputTokens: 3, Cost: 0.125, Outcome: "ok"},
	} {
		recordUsage(t, s, u)
	}
	before := s.Stats().Statements
	got, err := s.CircleMetrics(ctx, f.circle.ID)
	if n := s.Stats().Statements - before; n != 1 {
		t.Errorf("CircleMetrics ran %d statements, want 1", n)
	}
	if err != nil || len(got) != 3 {
		t.Fatalf("CircleMetrics = %+v, %v", got, err)
	}
	want := []store.CircleMemberMetrics{
		{AgentID: a, AgentName: f.agents[0].Name, JoinedAt: minutes(5), Completed: 2, Failed: 1, Reviews: 3, Approvals: 2,
			InputTokens: 120, OutputTokens: 12, Cost: 0.75},
		{AgentID: b, AgentName: f.agents[1].Name, JoinedAt: minutes(5), Workload: 1, InputTokens: 7, OutputTokens: 3, Cost: 0.125},
		{AgentID: f.agents[2].ID, AgentName: f.agents[2].Name, JoinedAt: minutes(5)},
	}
	for i := range want {
		g, w := got[i], want[i]
		if math.Abs(g.Cost-w.Cost) > 1e-9 {
			t.Errorf("member %d cost %v, want %v", i, g.Cost, w.Cost)
		}
		g.Cost, w.Cost = 0, 0
		if g != w {
			t.Errorf("member %d = %+v;\nwant %+v", i, g, w)
		}
	}
	if got, err := s.CircleMetrics(ctx, 999_999); err != nil || len(got) != 0 {
		t.Errorf("CircleMetrics of a missing circle = %+v, %v; want none", got, err)
	}
}

func testCircleDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newCircleFixture(t, s, "doomed", 2)
	task := moveTask(t, s, newCircleTask(t, s, f.circle.ID, "t"), store.TaskAssigned, f.agents[0].ID)
	if _, err := s.CircleTouch(ctx, task.ID, []string{"a"}, minutes(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.CircleDelete(ctx, f.circle.ID); err != nil {
		t.Fatalf("CircleDelete: %v", err)
	}
	_, err := s.CircleTaskGet(ctx, task.ID)
	wantCode(t, "a deleted circle's task", err, gathering.ENOTFOUND)
	_, err = s.CircleGet(ctx, f.circle.Name)
	wantCode(t, "a deleted circle", err, gathering.ENOTFOUND)
	wantCode(t, "CircleDelete again", s.CircleDelete(ctx, f.circle.ID), gathering.ENOTFOUND)
	if again := createCircle(t, s, newCircle(f.circle.Name, 3)); again.ID == f.circle.ID {
		t.Errorf("a deleted circle's id was reused")
	}
}
