package circle_test

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/activity"
	"github.com/gathering/gathering/internal/circle"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/store"
)

// lastPrompt is the last user message the fake provider received.
func lastPrompt(t *testing.T, fake *openaitest.Server) string {
	t.Helper()
	reqs := fake.Requests()
	if len(reqs) == 0 {
		t.Fatal("no chat request")
	}
	var body struct {
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(reqs[len(reqs)-1].Raw, &body); err != nil {
		t.Fatal(err)
	}
	for i := len(body.Messages) - 1; i >= 0; i-- {
		if body.Messages[i].Role == "user" {
			return body.Messages[i].Content
		}
	}
	return ""
}

// TestReviewLoopWithBackgroundWork: in a running circle, an assigned task
// starts a real background task of its assignee; its completion submits
// the task for review; a rejection sends it back with the feedback, which
// the next background task's prompt carries; an approval completes it.
// A second service on the same bus (another instance) changes nothing
// twice. The metrics come from the ledger rows the chat turns wrote.
func TestReviewLoopWithBackgroundWork(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, 0)
	start(t, circle.New(r.db, r.tasks, r.bus, circle.Options{}))
	worker := r.agent(t, "worker", true, "go")
	reviewer := r.agent(t, "reviewer", true, "python")
	bystander := r.agent(t, "bystander", false, "python")
	c := r.circle(t, circle.NewCircle{Name: "review", RequireReview: true, AutoRoute: true}, worker, reviewer, bystander)
	if _, err := r.circles.StartCircle(t.Context(), c.Name); err != nil {
		t.Fatal(err)
	}
	r.fake.Push(openaitest.Reply{Content: "TASK COMPLETE\nFirst try.", Usage: llm.Usage{InputTokens: 100, OutputTokens: 20}})
	task := r.task(t, c.Name, "Write the parser", circle.Priorities["high"], "go")
	if task.AssignedAgentID != worker || task.Status != store.TaskInProgress || task.BackgroundTaskID == "" || task.StartedAt.IsZero() {
		t.Fatalf("created %+v; want in progress for the worker, with a background task", task)
	}
	firstBackground := task.BackgroundTaskID
	review := r.awaitStatus(t, task.ID, store.TaskInReview)
	if review.Result != "First try." || review.ReviewerID != reviewer {
		t.Fatalf("in review: %+v; want the first result, reviewed by %d", review, reviewer)
	}
	bg, err := r.db.TaskGet(t.Context(), firstBackground)
	if err != nil || bg.Status != store.TaskCompleted || bg.AgentID != worker || bg.UserID != r.userID ||
		!strings.Contains(bg.Goal, "Write the parser") || !strings.Contains(bg.Goal, "Required competencies: go") {
		t.Fatalf("background task %+v, %v", bg, err)
	}

	_, err = r.circles.Approve(t.Context(), c.Name, task.ID, circle.Review{ReviewerID: worker})
	wantField(t, "the assignee approving their own task", err, "reviewer_id")
	_, err = r.circles.Reject(t.Context(), c.Name, task.ID, circle.Review{ReviewerID: bystander, Comment: "No."})
	wantField(t, "a member who cannot review", err, "reviewer_id")
	_, err = r.circles.Reject(t.Context(), c.Name, task.ID, circle.Review{ReviewerID: reviewer, Comment: "  "})
	wantField(t, "a rejection without a reason", err, "reason")

	r.fake.Push(openaitest.Reply{Content: "TASK COMPLETE\nWith tests.", Usage: llm.Usage{InputTokens: 200, OutputTokens: 40}})
	back, err := r.circles.Reject(t.Context(), c.Name, task.ID, circle.Review{ReviewerID: reviewer, Comment: "Add tests."})
	if err != nil || back.Status != store.TaskInProgress || back.Feedback != "Add tests." || back.BackgroundTaskID == "" ||
		back.BackgroundTaskID == firstBackground {
		t.Fatalf("Reject = %+v, %v; want in progress with the feedback and a new background task", back, err)
	}
	again := r.awaitStatus(t, task.ID, store.TaskInReview)
	if again.Result != "With tests." || !strings.Contains(lastPrompt(t, r.fake), "Add tests.") {
		t.Fatalf("second submission %+v; last prompt %q", again, lastPrompt(t, r.fake))
	}
	_, err = r.circles.Submit(t.Context(), c.Name, task.ID, circle.Submission{Result: "x"})
	wantCode(t, "submitting a task in review", err, gathering.ECONFLICT)
	done, err := r.circles.Approve(t.Context(), c.Name, task.ID, circle.Review{ReviewerID: reviewer, Comment: "Good."})
	if err != nil || done.Status != store.TaskDone || done.CompletedAt.IsZero() {
		t.Fatalf("Approve = %+v, %v", done, err)
	}
	_, err = r.circles.Approve(t.Context(), c.Name, task.ID, circle.Review{ReviewerID: reviewer})
	wantCode(t, "approving a completed task", err, gathering.ECONFLICT)
	_, reviews, err := r.circles.Task(t.Context(), c.Name, task.ID)
	if err != nil || len(reviews) != 2 || reviews[0].Approved || reviews[0].Comment != "Add tests." || !reviews[1].Approved {
		t.Errorf("reviews %+v, %v", reviews, err)
	}
	r.events.await(t, task.ID, "circle.task.created", "circle.task.assigned", "circle.task.started", "circle.task.submitted",
		"circle.task.rejected", "circle.task.started", "circle.task.submitted", "circle.task.approved", "circle.task.completed")
	if got := r.events.find("circle.task.rejected", 1); len(got) != 1 || !slices.Contains(got[0].Topics, "agent:"+itoa(worker)) ||
		!slices.Contains(got[0].Topics, "circle:review") || !strings.Contains(string(got[0].Data), `"feedback":"Add tests."`) {
		t.Errorf("rejected event %+v", got)
	}

	metrics, err := r.circles.Metrics(t.Context(), c.Name)
	if err != nil || len(metrics) != 3 {
		t.Fatalf("Metrics = %+v, %v", metrics, err)
	}
	w := metrics[0]
	if w.AgentID != worker || w.Completed != 1 || w.Failed != 0 || w.Workload != 0 || w.Reviews != 2 || w.Approvals != 1 ||
		w.ApprovalRate == nil || *w.ApprovalRate != 0.5 || w.InputTokens != 300 || w.OutputTokens != 60 ||
		math.Abs(w.Cost-(300*2+60*8)/1e6) > 1e-12 {
		t.Errorf("worker's metrics %+v (rate %v)", w.CircleMemberMetrics, w.ApprovalRate)
	}
	if rv := metrics[1]; rv.AgentID != reviewer || rv.ApprovalRate != nil || rv.InputTokens != 0 || rv.Completed != 0 {
		t.Errorf("reviewer's metrics %+v", rv)
	}
}

// itoa is n in decimal.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestFailedWork: a background task that is cancelled fails its circle
// task, and the freed slot goes to the pending task.
func TestFailedWork(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, 0)
	r.fake.SetFallback(openaitest.Reply{Stall: time.Minute})
	a := r.agent(t, "a", false)
	c := r.circle(t, circle.NewCircle{Name: "one-at-a-time", AutoRoute: true, MaxConcurrentTasks: 1}, a)
	if _, err := r.circles.StartCircle(t.Context(), c.Name); err != nil {
		t.Fatal(err)
	}
	first := r.task(t, c.Name, "first", 0)
	second := r.task(t, c.Name, "second", 0)
	if first.Status != store.TaskInProgress || second.Status != store.TaskPending {
		t.Fatalf("statuses %s, %s; want in_progress, pending", first.Status, second.Status)
	}
	if _, err := r.tasks.Cancel(t.Context(), first.BackgroundTaskID); err != nil {
		t.Fatal(err)
	}
	failed := r.awaitStatus(t, first.ID, store.TaskFailedOut)
	if !strings.Contains(failed.Result, "cancelled") || failed.CompletedAt.IsZero() {
		t.Errorf("failed task %+v", failed)
	}
	next := r.awaitStatus(t, second.ID, store.TaskInProgress)
	if next.BackgroundTaskID == "" {
		t.Errorf("the pending task took the slot but did not start: %+v", next)
	}
	if _, err := r.circles.Submit(t.Context(), c.Name, second.ID, circle.Submission{Result: "by hand"}); err != nil {
		t.Fatal(err)
	}
	bg, err := r.db.TaskGet(t.Context(), next.BackgroundTaskID)
	if err != nil || bg.Status != store.TaskCancelled {
		t.Errorf("the background task of a task submitted by hand is %s, %v; want cancelled", bg.Status, err)
	}
	if m, err := r.circles.Metrics(t.Context(), c.Name); err != nil || m[0].Failed != 1 || m[0].Completed != 1 {
		t.Errorf("metrics %+v, %v", m, err)
	}
}

// TestStoppedCircle: a stopped circle's tasks wait and start when it
// starts; stopping a running circle lets the work in flight finish and
// be submitted.
func TestStoppedCircle(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, 0)
	a := r.agent(t, "a", false)
	c := r.circle(t, circle.NewCircle{Name: "later", AutoRoute: true}, a)
	waiting := r.task(t, c.Name, "waiting", 0)
	if waiting.Status != store.TaskAssigned || waiting.BackgroundTaskID != "" || len(r.fake.Requests()) != 0 {
		t.Fatalf("a task of a stopped circle %+v", waiting)
	}
	r.fake.Push(openaitest.Reply{Content: "TASK COMPLETE\nslowly", Stall: 200 * time.Millisecond})
	started, err := r.circles.StartCircle(t.Context(), c.Name)
	if err != nil || started.Status != store.CircleRunning || started.StartedAt.IsZero() {
		t.Fatalf("StartCircle = %+v, %v", started, err)
	}
	_, err = r.circles.StartCircle(t.Context(), c.Name)
	wantCode(t, "starting a running circle", err, gathering.ECONFLICT)
	working := r.awaitStatus(t, waiting.ID, store.TaskInProgress)
	if _, err := r.circles.StopCircle(t.Context(), c.Name); err != nil {
		t.Fatal(err)
	}
	done := r.awaitStatus(t, waiting.ID, store.TaskDone)
	if done.Result != "slowly" || done.BackgroundTaskID != working.BackgroundTaskID {
		t.Errorf("work finished after the stop: %+v", done)
	}
	later := r.task(t, c.Name, "after the stop", 0)
	if later.Status != store.TaskAssigned || later.BackgroundTaskID != "" {
		t.Errorf("a task assigned after the stop %+v; want waiting", later)
	}
}

// TestMissedEndIsReconciled: a background task that ends while no
// circle service listens is picked up when one starts.
func TestMissedEndIsReconciled(t *testing.T) {
	t.Parallel()
	r := newQuietRig(t, nil, 0)
	a := r.agent(t, "a", false)
	c := r.circle(t, circle.NewCircle{Name: "unheard", AutoRoute: true}, a)
	if _, err := r.circles.StartCircle(t.Context(), c.Name); err != nil {
		t.Fatal(err)
	}
	r.fake.Push(openaitest.Reply{Content: "TASK COMPLETE\nwhile nobody listened"})
	task := r.task(t, c.Name, "unheard", 0)
	deadline := time.Now().Add(20 * time.Second)
	for bg, _ := r.db.TaskGet(t.Context(), task.BackgroundTaskID); bg.Status != store.TaskCompleted; bg, _ = r.db.TaskGet(t.Context(), task.BackgroundTaskID) {
		if time.Now().After(deadline) {
			t.Fatalf("the background task stays %s", bg.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got, _ := r.db.CircleTaskGet(t.Context(), task.ID); got.Status != store.TaskInProgress {
		t.Fatalf("with no service listening the task became %s", got.Status)
	}
	start(t, r.circles)
	if done := r.awaitStatus(t, task.ID, store.TaskDone); done.Result != "while nobody listened" {
		t.Errorf("reconciled task %+v", done)
	}
}

// TestConflicts: two members touching one file of the circle's project
// for their active tasks make one conflict, from activity or from what
// they submit; resolving it clears it.
func TestConflicts(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, 0)
	ctx := t.Context()
	now := time.Now()
	project, err := r.db.ProjectCreate(ctx, store.Project{Name: "repo", Status: store.ProjectActive, Settings: []byte(`{}`), CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	a, b := r.agent(t, "a", false), r.agent(t, "b", false)
	rv, outsider := r.agent(t, "rv", true), r.agent(t, "outsider", false)
	c := r.circle(t, circle.NewCircle{Name: "clash", AutoRoute: true, RequireReview: true, ProjectID: project.ID}, a, b, rv)
	ta := r.task(t, c.Name, "a's", 0)
	tb := r.task(t, c.Name, "b's", 0)
	if ta.AssignedAgentID != a || tb.AssignedAgentID != b {
		t.Fatalf("assignees %d, %d; want %d, %d", ta.AssignedAgentID, tb.AssignedAgentID, a, b)
	}
	write := func(agent int64, kind, path string) {
		t.Helper()
		if _, err := activity.Record(ctx, r.db, r.bus, store.Activity{ProjectID: project.ID, Kind: kind, Summary: "Touched " + path,
			Path: path, AgentID: agent, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	open := true
	awaitOpen := func(n int) []store.CircleConflict {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			list, total, err := r.circles.Conflicts(ctx, c.Name, &open, store.Page{})
			if err == nil && total == n {
				return list
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d open conflicts (%v), want %d", total, err, n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	write(a, store.ActivityFileDeleted, "src/main.go")
	write(outsider, store.ActivityFileEdited, "src/main.go")
	write(b, store.ActivityCommit, "src/main.go")
	write(b, store.ActivityFileEdited, "/src/main.go")
	first := awaitOpen(1)[0]
	if first.Path != "src/main.go" || first.AgentA != a || first.AgentB != b || first.TaskA != ta.ID || first.TaskB != tb.ID {
		t.Errorf("conflict %+v", first)
	}
	if _, err := r.circles.Submit(ctx, c.Name, ta.ID, circle.Submission{Result: "a", FilesModified: []string{"docs/x.md", "src/main.go"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.circles.Submit(ctx, c.Name, tb.ID, circle.Submission{Result: "b", FilesModified: []string{"docs/x.md"}}); err != nil {
		t.Fatal(err)
	}
	list := awaitOpen(2)
	if list[1].Path != "docs/x.md" || list[1].TaskB != tb.ID {
		t.Errorf("conflict from the submissions %+v", list[1])
	}
	resolved, err := r.circles.Resolve(ctx, c.Name, first.ID, "b rebases")
	if err != nil || resolved.ResolvedAt.IsZero() || resolved.Resolution != "b rebases" {
		t.Errorf("Resolve = %+v, %v", resolved, err)
	}
	_, err = r.circles.Resolve(ctx, c.Name, first.ID, "")
	wantCode(t, "resolving twice", err, gathering.ECONFLICT)
	_, err = r.circles.Resolve(ctx, c.Name, 424242, "")
	wantCode(t, "resolving a missing conflict", err, gathering.ENOTFOUND)
	awaitOpen(1)
	closed := false
	if list, total, err := r.circles.Conflicts(ctx, c.Name, &closed, store.Page{}); err != nil || total != 1 || list[0].ID != first.ID {
		t.Errorf("resolved conflicts %+v, %d, %v", list, total, err)
	}
	if d, err := r.circles.Circle(ctx, c.Name); err != nil || d.OpenConflicts != 1 {
		t.Errorf("detail: %d open conflicts, %v", d.OpenConflicts, err)
	}
	detected := r.events.find("circle.conflict.detected", 2)
	if len(detected) != 2 || !slices.Contains(detected[0].Topics, "agent:"+itoa(a)) || !slices.Contains(detected[0].Topics, "agent:"+itoa(b)) {
		t.Errorf("detected events %+v", detected)
	}
	if got := r.events.find("circle.conflict.resolved", 1); len(got) != 1 {
		t.Errorf("%d resolved events", len(got))
	}
}

// TestTasksSurviveARestart: tasks, members and their states stay when
// the store is closed and opened again, and a new service sees them.
func TestTasksSurviveARestart(t *testing.T) {
	t.Parallel()
	for name, reopen := range map[string]func(t *testing.T) func() store.Store{
		"sqlite":   sqliteAt,
		"postgres": postgresAt,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			open := reopen(t)
			first := open()
			r := newQuietRig(t, first, 0)
			a := r.agent(t, "a", false, "go")
			c := r.circle(t, circle.NewCircle{Name: "durable", AutoRoute: true, MaxConcurrentTasks: 1}, a)
			assigned := r.task(t, c.Name, "assigned", 0, "go")
			pending := r.task(t, c.Name, "pending", 9)
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}
			second := open()
			svc := circle.New(second, nil, nil, circle.Options{})
			start(t, svc)
			tasks, total, err := svc.Tasks(context.Background(), c.Name, "", store.Page{})
			if err != nil || total != 2 || tasks[0].ID != assigned.ID || tasks[0].Status != store.TaskAssigned ||
				tasks[0].AssignedAgentID != a || tasks[1].ID != pending.ID || tasks[1].Status != store.TaskPending || tasks[1].Priority != 9 {
				t.Fatalf("tasks after the restart %+v, %d, %v", tasks, total, err)
			}
			if ids, err := svc.MemberAgentIDs(context.Background(), c.Name); err != nil || !slices.Equal(ids, []int64{a}) {
				t.Errorf("members after the restart %v, %v", ids, err)
			}
		})
	}
}

// TestWorkThatCannotStart: a task the runner has no room for waits, in
// progress without a background task, and starts when a background task
// ends; a task whose agent is gone fails.
func TestWorkThatCannotStart(t *testing.T) {
	t.Parallel()
	r := buildRig(t, nil, 0, 1)
	start(t, r.circles)
	r.fake.SetFallback(openaitest.Reply{Stall: time.Minute})
	a, b := r.agent(t, "a", false), r.agent(t, "b", false)
	c := r.circle(t, circle.NewCircle{Name: "crowded", AutoRoute: true}, a, b)
	if _, err := r.circles.StartCircle(t.Context(), c.Name); err != nil {
		t.Fatal(err)
	}
	first := r.task(t, c.Name, "first", 0)
	second := r.task(t, c.Name, "second", 0)
	if first.BackgroundTaskID == "" || second.Status != store.TaskInProgress || second.BackgroundTaskID != "" {
		t.Fatalf("first %+v\nsecond %+v; want the second in progress, waiting for room", first, second)
	}
	if _, err := r.tasks.Cancel(t.Context(), first.BackgroundTaskID); err != nil {
		t.Fatal(err)
	}
	r.awaitStatus(t, first.ID, store.TaskFailedOut)
	started := r.await(t, second.ID, "started", func(task store.CircleTask) bool { return task.BackgroundTaskID != "" })
	if _, err := r.tasks.Cancel(t.Context(), started.BackgroundTaskID); err != nil {
		t.Fatal(err)
	}
	r.awaitStatus(t, second.ID, store.TaskFailedOut)

	if _, err := r.circles.StopCircle(t.Context(), c.Name); err != nil {
		t.Fatal(err)
	}
	orphan := r.task(t, c.Name, "orphan", 0)
	if err := r.db.AgentDelete(t.Context(), orphan.AssignedAgentID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.circles.StartCircle(t.Context(), c.Name); err != nil {
		t.Fatal(err)
	}
	if got := r.awaitStatus(t, orphan.ID, store.TaskFailedOut); !strings.Contains(got.Result, "could not start") {
		t.Errorf("the task of a deleted agent %+v", got)
	}
}
