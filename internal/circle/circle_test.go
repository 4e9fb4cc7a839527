package circle_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/circle"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// TestRouting: a task requiring go goes to the member with go
// (case-insensitively); among members who cover it alike, to the least
// loaded, then the lowest id; one no member covers still goes to the least
// loaded.
func TestRouting(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, 0)
	py := r.agent(t, "py", false, "python")
	gopher := r.agent(t, "gopher", false, "Go", "sql")
	gopher2 := r.agent(t, "gopher2", false, "go")
	c := r.circle(t, circle.NewCircle{Name: "routing", AutoRoute: true, MaxConcurrentTasks: 10}, py, gopher, gopher2)

	first := r.task(t, c.Name, "first", 0, "GO")
	second := r.task(t, c.Name, "second", 0, "go")
	both := r.task(t, c.Name, "both", 0, "go", "sql")
	third := r.task(t, c.Name, "third", 0, "go")
	nobody := r.task(t, c.Name, "nobody", 0, "rust")
	got := []int64{first.AssignedAgentID, second.AssignedAgentID, both.AssignedAgentID, third.AssignedAgentID, nobody.AssignedAgentID}
	want := []int64{gopher, gopher2, gopher, gopher2, py}
	if !slices.Equal(got, want) {
		t.Errorf("assignees %v, want %v (py %d, gopher %d, gopher2 %d)", got, want, py, gopher, gopher2)
	}
	if first.Status != store.TaskAssigned || first.BackgroundTaskID != "" {
		t.Errorf("a task of a stopped circle = %+v; want assigned, not started", first)
	}

	manual := r.circle(t, circle.NewCircle{Name: "manual"}, py, gopher)
	task := r.task(t, manual.Name, "by hand", 0, "go")
	if task.Status != store.TaskPending {
		t.Fatalf("a task of a circle without auto_route = %+v, want pending", task)
	}
	_, err := r.circles.Assign(t.Context(), manual.Name, task.ID, gopher2)
	wantField(t, "assigning to a non-member", err, "agent_id")
	assigned, err := r.circles.Assign(t.Context(), manual.Name, task.ID, py)
	if err != nil || assigned.AssignedAgentID != py || assigned.Status != store.TaskAssigned {
		t.Fatalf("Assign = %+v, %v", assigned, err)
	}
	_, err = r.circles.Assign(t.Context(), manual.Name, task.ID, gopher)
	wantCode(t, "assigning an assigned task", err, gathering.ECONFLICT)
	_, err = r.circles.Assign(t.Context(), c.Name, task.ID, gopher)
	wantCode(t, "assigning another circle's task", err, gathering.ENOTFOUND)
	r.events.await(t, task.ID, "circle.task.created", "circle.task.assigned")
}

// TestMaxConcurrentTasks: a circle holds at most max_concurrent_tasks
// active tasks; the others stay pending and the most urgent one is routed
// when a slot frees.
func TestMaxConcurrentTasks(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, 0)
	a := r.agent(t, "a", false)
	b := r.agent(t, "b", false)
	c := r.circle(t, circle.NewCircle{Name: "small", AutoRoute: true, MaxConcurrentTasks: 2}, a, b)
	one := r.task(t, c.Name, "one", 0)
	two := r.task(t, c.Name, "two", 0)
	low := r.task(t, c.Name, "low", circle.Priorities["low"])
	urgent := r.task(t, c.Name, "urgent", circle.Priorities["critical"])
	if one.Status != store.TaskAssigned || two.Status != store.TaskAssigned || low.Status != store.TaskPending || urgent.Status != store.TaskPending {
		t.Fatalf("statuses %s %s %s %s, want assigned, assigned, pending, pending", one.Status, two.Status, low.Status, urgent.Status)
	}
	if one.AssignedAgentID == two.AssignedAgentID {
		t.Errorf("both tasks went to agent %d; the second should go to the less loaded member", one.AssignedAgentID)
	}
	manual := r.circle(t, circle.NewCircle{Name: "manual-small", MaxConcurrentTasks: 1}, a)
	m1, m2 := r.task(t, manual.Name, "m1", 0), r.task(t, manual.Name, "m2", 0)
	if _, err := r.circles.Assign(t.Context(), manual.Name, m1.ID, a); err != nil {
		t.Fatal(err)
	}
	_, err := r.circles.Assign(t.Context(), manual.Name, m2.ID, a)
	wantCode(t, "assigning in a full circle", err, gathering.ECONFLICT)

	if _, err := r.circles.Submit(t.Context(), c.Name, one.ID, circle.Submission{Result: "done"}); err != nil {
		t.Fatal(err)
	}
	if got := r.awaitStatus(t, urgent.ID, store.TaskAssigned); got.AssignedAgentID != one.AssignedAgentID {
		t.Errorf("the urgent task went to %d, want the freed member %d", got.AssignedAgentID, one.AssignedAgentID)
	}
	if got, _ := r.db.CircleTaskGet(t.Context(), low.ID); got.Status != store.TaskPending {
		t.Errorf("the low task is %s, want pending: the circle is full again", got.Status)
	}
	d, err := r.circles.Circle(t.Context(), c.Name)
	if err != nil || d.TaskCounts[store.TaskDone] != 1 || d.TaskCounts[store.TaskAssigned] != 2 || d.TaskCounts[store.TaskPending] != 1 {
		t.Errorf("counts %v, %v", d.TaskCounts, err)
	}
	limit := 3
	if _, err := r.circles.Update(t.Context(), c.Name, circle.Patch{MaxConcurrentTasks: &limit}); err != nil {
		t.Fatal(err)
	}
	r.awaitStatus(t, low.ID, store.TaskAssigned)
}

// TestValidation: every limit is enforced with the field it concerns.
func TestValidation(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, 0)
	a := r.agent(t, "a", true)
	b := r.agent(t, "b", false)
	ctx := t.Context()
	long := func(n int) string { return strings.Repeat("x", n) }
	many := func(n int, s string) []string { return slices.Repeat([]string{s}, n) }
	for name, tc := range map[string]struct {
		n     circle.NewCircle
		field string
	}{
		"empty name":        {circle.NewCircle{}, "name"},
		"65 characters":     {circle.NewCircle{Name: long(65)}, "name"},
		"slash":             {circle.NewCircle{Name: "a/b"}, "name"},
		"description":       {circle.NewCircle{Name: "d", Description: long(circle.MaxDescription + 1)}, "description"},
		"101 tasks at once": {circle.NewCircle{Name: "m", MaxConcurrentTasks: 101}, "max_concurrent_tasks"},
		"missing project":   {circle.NewCircle{Name: "p", ProjectID: 4242}, "project_id"},
	} {
		_, err := r.circles.Create(ctx, tc.n)
		wantField(t, name, err, tc.field)
	}
	c := r.circle(t, circle.NewCircle{Name: long(64), Description: long(circle.MaxDescription)}, a)
	_, err := r.circles.Create(ctx, circle.NewCircle{Name: strings.ToUpper(c.Name)})
	wantCode(t, "a taken name", err, gathering.ECONFLICT)
	_, err = r.circles.AddMember(ctx, c.Name, circle.NewMember{AgentID: a})
	wantCode(t, "adding a member again", err, gathering.ECONFLICT)
	_, err = r.circles.AddMember(ctx, c.Name, circle.NewMember{AgentID: 4242})
	wantField(t, "a missing agent", err, "agent_id")
	_, err = r.circles.AddMember(ctx, c.Name, circle.NewMember{AgentID: b, Competencies: many(circle.MaxCompetencies+1, "go")})
	wantField(t, "21 competencies", err, "competencies")
	_, err = r.circles.AddMember(ctx, c.Name, circle.NewMember{AgentID: b, Competencies: []string{"go", long(circle.MaxCompetency + 1)}})
	wantField(t, "a long competency", err, "competencies/1")
	_, err = r.circles.AddMember(ctx, "nope", circle.NewMember{AgentID: b})
	wantCode(t, "a missing circle", err, gathering.ENOTFOUND)
	yes := true
	m, err := r.circles.AddMember(ctx, c.Name, circle.NewMember{AgentID: b, Competencies: many(circle.MaxCompetencies, " Go "), CanReview: &yes})
	if err != nil || !m.CanReview || len(m.Competencies) != circle.MaxCompetencies || m.Competencies[0] != "Go" {
		t.Errorf("AddMember at the limits = %+v, %v", m, err)
	}
	for name, tc := range map[string]struct {
		n     circle.NewTask
		field string
	}{
		"no title":          {circle.NewTask{Title: " "}, "title"},
		"long title":        {circle.NewTask{Title: long(circle.MaxTitle + 1)}, "title"},
		"long description":  {circle.NewTask{Title: "t", Description: long(circle.MaxTaskDescription + 1)}, "description"},
		"many competencies": {circle.NewTask{Title: "t", RequiredCompetencies: many(circle.MaxCompetencies+1, "go")}, "required_competencies"},
		"priority 11":       {circle.NewTask{Title: "t", Priority: 11}, "priority"},
	} {
		_, err := r.circles.CreateTask(ctx, c.Name, tc.n)
		wantField(t, name, err, tc.field)
	}
	task, err := r.circles.CreateTask(ctx, c.Name, circle.NewTask{Title: long(circle.MaxTitle), Description: long(circle.MaxTaskDescription),
		RequiredCompetencies: many(circle.MaxCompetencies, "go")})
	if err != nil || task.Priority != circle.DefaultPriority {
		t.Fatalf("CreateTask at the limits = %+v, %v", task, err)
	}
	if _, err := r.circles.Assign(ctx, c.Name, task.ID, a); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		sub   circle.Submission
		field string
	}{
		"long result": {circle.Submission{Result: long(circle.MaxResult + 1)}, "result"},
		"many files":  {circle.Submission{FilesModified: many(circle.MaxFiles+1, "a.go")}, "files_modified"},
		"outside":     {circle.Submission{FilesModified: []string{"a.go", "../etc/passwd"}}, "files_modified/1"},
		"long path":   {circle.Submission{FilesModified: []string{long(circle.MaxPath + 1)}}, "files_modified/0"},
		"the root":    {circle.Submission{FilesModified: []string{"/"}}, "files_modified/0"},
	} {
		_, err := r.circles.Submit(ctx, c.Name, task.ID, tc.sub)
		wantField(t, name, err, tc.field)
	}
	files := append(many(circle.MaxFiles-1, "./src/a.go"), "/src/b.go")
	done, err := r.circles.Submit(ctx, c.Name, task.ID, circle.Submission{Result: long(circle.MaxResult), FilesModified: files})
	if err != nil || !slices.Equal(done.FilesModified, []string{"src/a.go", "src/b.go"}) || done.Status != store.TaskDone {
		t.Errorf("Submit at the limits = %v, %s, %v", done.FilesModified, done.Status, err)
	}
	_, err = r.circles.Resolve(ctx, c.Name, 1, long(circle.MaxResolution+1))
	wantField(t, "a long resolution", err, "resolution")
}

func TestParsePriority(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]int{``: 0, `null`: 0, `1`: 1, `10`: 10, `"low"`: 3, `"Medium"`: 5, `"high"`: 7, `"CRITICAL"`: 9} {
		if got, err := circle.ParsePriority([]byte(raw)); err != nil || got != want {
			t.Errorf("ParsePriority(%s) = %d, %v; want %d", raw, got, err, want)
		}
	}
	for _, raw := range []string{`0`, `11`, `5.5`, `"urgent"`, `"5"`, `true`, `[]`} {
		_, err := circle.ParsePriority([]byte(raw))
		wantField(t, "ParsePriority("+raw+")", err, "priority")
	}
}

// TestStartStop: a stopped circle starts no work, starting twice is a
// conflict, and members of an active task cannot leave.
func TestStartStop(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, 0)
	a := r.agent(t, "a", false)
	c := r.circle(t, circle.NewCircle{Name: "switch", AutoRoute: true}, a)
	_, err := r.circles.StopCircle(t.Context(), c.Name)
	wantCode(t, "stopping a stopped circle", err, gathering.ECONFLICT)
	task := r.task(t, c.Name, "wait", 0)
	if task.Status != store.TaskAssigned || task.BackgroundTaskID != "" {
		t.Fatalf("a task of a stopped circle = %+v", task)
	}
	wantCode(t, "removing a busy member", r.circles.RemoveMember(t.Context(), c.Name, a), gathering.ECONFLICT)
	wantCode(t, "removing a non-member", r.circles.RemoveMember(t.Context(), c.Name, a+100), gathering.ENOTFOUND)
	if _, err := r.circles.Submit(t.Context(), c.Name, task.ID, circle.Submission{}); err != nil {
		t.Fatal(err)
	}
	if err := r.circles.RemoveMember(t.Context(), c.Name, a); err != nil {
		t.Errorf("removing an idle member: %v", err)
	}
	if ids, err := r.circles.MemberAgentIDs(t.Context(), c.Name); err != nil || len(ids) != 0 {
		t.Errorf("MemberAgentIDs after the removal = %v, %v", ids, err)
	}
	_, err = r.circles.MemberAgentIDs(t.Context(), "nope")
	wantCode(t, "MemberAgentIDs of a missing circle", err, gathering.ENOTFOUND)
	if err := r.circles.Delete(t.Context(), c.Name); err != nil {
		t.Fatal(err)
	}
	_, err = r.circles.StartCircle(t.Context(), c.Name)
	wantCode(t, "starting a deleted circle", err, gathering.ENOTFOUND)
	r.events.await(t, 0, "circle.created", "circle.member.added", "circle.task.created", "circle.task.assigned",
		"circle.task.submitted", "circle.task.completed", "circle.member.removed", "circle.deleted")
}
