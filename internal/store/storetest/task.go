package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// exerciseTasks runs the TaskStore part of the suite, each test on a fresh
// migrated store.
func exerciseTasks(t *testing.T, migrated func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"TaskRoundTrip", testTaskRoundTrip},
		{"TaskCreateRefuses", testTaskCreateRefuses},
		{"TaskCreateLimit", testTaskCreateLimit},
		{"TaskCreateConcurrent", testTaskCreateConcurrent},
		{"TaskClaim", testTaskClaim},
		{"TaskClaimConcurrent", testTaskClaimConcurrent},
		{"TaskReclaim", testTaskReclaim},
		{"TaskFencing", testTaskFencing},
		{"TaskHeartbeat", testTaskHeartbeat},
		{"TaskRelease", testTaskRelease},
		{"TaskSteps", testTaskSteps},
		{"TaskStepStartBounds", testTaskStepStartBounds},
		{"TaskStepFinishRefuses", testTaskStepFinishRefuses},
		{"TaskPause", testTaskPause},
		{"TaskPauseRace", testTaskPauseRace},
		{"TaskResume", testTaskResume},
		{"TaskCancel", testTaskCancel},
		{"TaskFinish", testTaskFinish},
		{"TaskList", testTaskList},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { t.Parallel(); tt.test(t, migrated(t)) })
	}
}

// Tool calls and results no JSON library would write this way (see
// oddNodes).
const (
	oddToolCalls   = " [ {\"name\" : \"fs\", \"input\":{\"z\":1,\"a\":[1e2, -0.0, \"caf\\u00e9\"]}} ]\n"
	oddToolResults = "[{\"ok\":true ,\"output\":\"\\ud83d\\ude00 ✓\"}]\t"
)

// noLimit is a bound on running tasks that the tests never reach.
const noLimit = 1000

// newTask is a task of agent 1 for user 2 with id id, created at minute n:
// 10 steps, a checkpoint every 2, 10 minutes of running time.
func newTask(id string, n int) store.BackgroundTask {
	return store.BackgroundTask{ID: id, AgentID: 1, UserID: 2, Goal: "Goal of " + id, MaxSteps: 10, TimeoutSec: 600,
		CheckpointInterval: 2, CreatedAt: minutes(n)}
}

// createdTask is t as TaskCreate stores it.
func createdTask(t store.BackgroundTask) store.BackgroundTask {
	return store.BackgroundTask{ID: t.ID, AgentID: t.AgentID, UserID: t.UserID, Goal: t.Goal, Status: store.TaskRunning,
		MaxSteps: t.MaxSteps, TimeoutSec: t.TimeoutSec, CheckpointInterval: t.CheckpointInterval, SessionID: t.SessionID,
		CreatedAt: t.CreatedAt, UpdatedAt: t.CreatedAt}
}

// createTasks stores every task, with no bound in reach, and returns them
// as stored, or fails the test.
func createTasks(t *testing.T, s store.Store, ts ...store.BackgroundTask) []store.BackgroundTask {
	t.Helper()
	var out []store.BackgroundTask
	for _, task := range ts {
		got, err := s.TaskCreate(t.Context(), task, noLimit)
		if err != nil {
			t.Fatalf("TaskCreate(%s): %v", task.ID, err)
		}
		out = append(out, got)
	}
	return out
}

// claimTask claims a task for owner at minute now with a lease until
// minute until, or fails the test.
func claimTask(t *testing.T, s store.Store, owner string, now, until int) store.BackgroundTask {
	t.Helper()
	got, err := s.TaskClaim(t.Context(), owner, minutes(now), minutes(until))
	if err != nil {
		t.Fatalf("TaskClaim(%s at minute %d): %v", owner, now, err)
	}
	return got
}

// startTask creates task and claims it for owner at minute now, with a
// lease until minute until, or fails the test. No other task may need an
// owner.
func startTask(t *testing.T, s store.Store, task store.BackgroundTask, owner string, now, until int) store.BackgroundTask {
	t.Helper()
	createTasks(t, s, task)
	claimed := claimTask(t, s, owner, now, until)
	if claimed.ID != task.ID {
		t.Fatalf("TaskClaim took %s, want %s", claimed.ID, task.ID)
	}
	return claimed
}

// wantTask fails the test unless the stored task equals want, every field,
// with UTC times.
func wantTask(t *testing.T, op string, s store.Store, want store.BackgroundTask) {
	t.Helper()
	got, err := s.TaskGet(t.Context(), want.ID)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: TaskGet = %+v, %v;\nwant %+v", op, got, err, want)
	}
}

// wantSteps fails the test unless TaskSteps of task id is want.
func wantSteps(t *testing.T, op string, s store.Store, id string, want ...store.TaskStep) {
	t.Helper()
	got, err := s.TaskSteps(t.Context(), id)
	if err != nil || len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
		t.Errorf("%s: TaskSteps = %s, %v;\nwant %s", op, showSteps(got), err, showSteps(want))
	}
}

// showSteps prints steps with their JSON as text.
func showSteps(ss []store.TaskStep) string {
	var b strings.Builder
	for _, st := range ss {
		fmt.Fprintf(&b, "\n  %s#%d %s content %q calls %q (nil %t) results %q (nil %t) usage %d/%d/%g error %q/%q "+
			"started %v finished %v", st.TaskID, st.Step, st.Status, st.Content, st.ToolCalls, st.ToolCalls == nil,
			st.ToolResults, st.ToolResults == nil, st.InputTokens, st.OutputTokens, st.Cost, st.ErrorCode, st.Error,
			st.StartedAt, st.FinishedAt)
	}
	return b.String()
}

// startStep starts step n of the task of l at minute at, or fails the
// test, and returns the step as stored.
func startStep(t *testing.T, s store.Store, l store.Lease, n, at int) store.TaskStep {
	t.Helper()
	st := store.TaskStep{TaskID: l.RunID, Step: n, Status: store.StepRunning, StartedAt: minutes(at)}
	if err := s.TaskStepStart(t.Context(), l, st); err != nil {
		t.Fatalf("TaskStepStart(%s#%d): %v", l.RunID, n, err)
	}
	return st
}

// endStep is st ended with status at minute at, with usage in, out, cost.
func endStep(st store.TaskStep, status string, at, in, out int, cost float64) store.TaskStep {
	st.Status, st.FinishedAt, st.InputTokens, st.OutputTokens, st.Cost = status, minutes(at), in, out, cost
	st.Content = fmt.Sprintf("Step %d %s.", st.Step, status)
	return st
}

// finishStep records the end of st under l with progress p, or fails the
// test.
func finishStep(t *testing.T, s store.Store, l store.Lease, st store.TaskStep, p store.TaskProgress) {
	t.Helper()
	if err := s.TaskStepFinish(t.Context(), l, st, p); err != nil {
		t.Fatalf("TaskStepFinish(%s#%d): %v", st.TaskID, st.Step, err)
	}
}

// interrupted is a running step cut off at minute at.
func interrupted(st store.TaskStep, at int) store.TaskStep {
	st.Status, st.FinishedAt = store.StepInterrupted, minutes(at)
	return st
}

// withSteps is a task of checkpoint interval 1 claimed by instance-a at
// minute 1 (lease until minute 100) with steps 1 and 3 completed, 2 failed
// and 4 running, its checkpoint at step 1; it returns the task as stored
// and its steps.
func withSteps(t *testing.T, s store.Store, id string) (store.BackgroundTask, []store.TaskStep) {
	t.Helper()
	task := newTask(id, 0)
	task.CheckpointInterval = 1
	claimed := startTask(t, s, task, "instance-a", 1, 100)
	l := store.TaskLeaseOf(claimed)
	var steps []store.TaskStep
	for n, status := range []string{store.StepCompleted, store.StepFailed, store.StepCompleted} {
		st := endStep(startStep(t, s, l, n+1, 2*n+2), status, 2*n+3, 10, 1, 0.5)
		finishStep(t, s, l, st, store.TaskProgress{UsedMS: 60_000, Checkpoint: n == 0})
		steps = append(steps, st)
	}
	steps = append(steps, startStep(t, s, l, 4, 8))
	claimed.CheckpointStep, claimed.UsedMS, claimed.InputTokens, claimed.OutputTokens, claimed.Cost = 1, 180_000, 30, 3, 1.5
	claimed.UpdatedAt = minutes(7)
	wantTask(t, "after three steps", s, claimed)
	return claimed, steps
}

func testTaskRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	full := store.BackgroundTask{
		ID: "task-full", AgentID: 7, UserID: 9, Goal: "Write the report, ✓ café.", MaxSteps: 30, TimeoutSec: 3600,
		CheckpointInterval: 5, SessionID: "session-1", CreatedAt: minutes(1).Add(123 * time.Millisecond),
		// TaskCreate ignores these: a new task is running, unclaimed, with no progress.
		Status: store.TaskCompleted, CheckpointStep: 4, UsedMS: 99, Result: "done", ErrorCode: gathering.EINTERNAL,
		Error: "no", InputTokens: 5, OutputTokens: 6, Cost: 7, StartedAt: minutes(2), UpdatedAt: minutes(3),
		FinishedAt: minutes(4), Owner: "instance-a", Epoch: 5, LeaseUntil: minutes(5),
	}
	got, err := s.TaskCreate(ctx, full, 1)
	want := createdTask(full)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("TaskCreate = %+v, %v;\nwant %+v", got, err, want)
	}
	wantTask(t, "every field set", s, want)
	if got.CreatedAt.Location() != time.UTC || got.UpdatedAt.Location() != time.UTC {
		t.Errorf("times %v, %v are not in UTC", got.CreatedAt, got.UpdatedAt)
	}
	bare := store.BackgroundTask{ID: "task-bare", Goal: "g", MaxSteps: 1, TimeoutSec: 1, CheckpointInterval: 1}
	createTasks(t, s, bare)
	wantTask(t, "zero values", s, createdTask(bare))
	_, err = s.TaskGet(ctx, "task-missing")
	wantCode(t, "TaskGet of a missing task", err, gathering.ENOTFOUND)
	wantSteps(t, "of a new task", s, full.ID)
}

// getTask returns a stored task, or fails the test.
func getTask(t *testing.T, s store.Store, id string) store.BackgroundTask {
	t.Helper()
	got, err := s.TaskGet(t.Context(), id)
	if err != nil {
		t.Fatalf("TaskGet(%s): %v", id, err)
	}
	return got
}

// wantRunning fails the test unless TaskCountRunning is want.
func wantRunning(t *testing.T, op string, s store.Store, want int) {
	t.Helper()
	if n, err := s.TaskCountRunning(t.Context()); err != nil || n != want {
		t.Errorf("%s: TaskCountRunning = %d, %v; want %d", op, n, err, want)
	}
}

func testTaskCreateRefuses(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := createTasks(t, s, newTask("task-1", 1))[0]
	again := newTask("task-1", 2)
	again.Goal = "Another goal"
	_, err := s.TaskCreate(ctx, again, noLimit)
	wantCode(t, "TaskCreate of an existing id", err, gathering.ECONFLICT)
	wantTask(t, "after a refused duplicate", s, first)
	for name, change := range map[string]func(task *store.BackgroundTask){
		"no id":                  func(task *store.BackgroundTask) { task.ID = "" },
		"no goal":                func(task *store.BackgroundTask) { task.Goal = "" },
		"no steps":               func(task *store.BackgroundTask) { task.MaxSteps = 0 },
		"negative steps":         func(task *store.BackgroundTask) { task.MaxSteps = -1 },
		"no checkpoint interval": func(task *store.BackgroundTask) { task.CheckpointInterval = 0 },
		"no timeout":             func(task *store.BackgroundTask) { task.TimeoutSec = 0 },
	} {
		task := newTask("task-2", 2)
		change(&task)
		_, err := s.TaskCreate(ctx, task, noLimit)
		wantCode(t, "TaskCreate with "+name, err, gathering.EINVALID)
	}
	if _, total, err := s.TaskList(ctx, store.TaskFilter{}, store.Page{}); err != nil || total != 1 {
		t.Errorf("after refused creations: total %d, %v; want 1", total, err)
	}
}

// testTaskCreateLimit checks the bound on running tasks: paused and
// finished tasks do not count.
func testTaskCreateLimit(t *testing.T, s store.Store) {
	ctx := t.Context()
	create := func(id string, n, bound int) error {
		_, err := s.TaskCreate(ctx, newTask(id, n), bound)
		return err
	}
	wantRunning(t, "with no task", s, 0)
	for i := range 2 {
		if err := create(fmt.Sprint("task-", i), i, 2); err != nil {
			t.Fatalf("TaskCreate %d under a bound of 2: %v", i, err)
		}
	}
	wantRunning(t, "after two", s, 2)
	err := create("task-2", 2, 2)
	wantCode(t, "TaskCreate at the bound", err, gathering.ERATELIMITED)
	if after := gathering.ErrorRetryAfter(err); after != 0 {
		t.Errorf("TaskCreate at the bound: RetryAfter %v, want none", after)
	}
	wantCode(t, "TaskCreate under a bound of 0", create("task-2", 2, 0), gathering.ERATELIMITED)
	_, err = s.TaskGet(ctx, "task-2")
	wantCode(t, "TaskGet of a task refused by the bound", err, gathering.ENOTFOUND)
	if _, err := s.TaskPause(ctx, "task-0", minutes(3)); err != nil {
		t.Fatalf("TaskPause: %v", err)
	}
	wantRunning(t, "after a pause", s, 1)
	if err := create("task-2", 4, 2); err != nil {
		t.Errorf("TaskCreate with a paused task: %v", err)
	}
	if _, err := s.TaskCancel(ctx, "task-1", minutes(5)); err != nil {
		t.Fatalf("TaskCancel: %v", err)
	}
	if err := create("task-3", 6, 2); err != nil {
		t.Errorf("TaskCreate with a cancelled task: %v", err)
	}
	wantCode(t, "TaskCreate at the bound again", create("task-4", 7, 2), gathering.ERATELIMITED)
	claimed := claimTask(t, s, "instance-a", 8, 18)
	if _, err := s.TaskFinish(ctx, store.TaskLeaseOf(claimed), store.TaskEnd{Status: store.TaskCompleted, At: minutes(9)}); err != nil {
		t.Fatalf("TaskFinish: %v", err)
	}
	if err := create("task-4", 10, 2); err != nil {
		t.Errorf("TaskCreate with a finished task: %v", err)
	}
	wantRunning(t, "at the end", s, 2)
}

// testTaskCreateConcurrent checks that concurrent creations never pass
// the bound together.
func testTaskCreateConcurrent(t *testing.T, s store.Store) {
	const creators, bound = 10, 5
	errs := make([]error, creators)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range creators {
		wg.Go(func() {
			<-start
			_, errs[i] = s.TaskCreate(t.Context(), newTask(fmt.Sprintf("task-%02d", i), i), bound)
		})
	}
	close(start)
	wg.Wait()
	created := 0
	for i, err := range errs {
		switch gathering.ErrorCode(err) {
		case "":
			created++
		case gathering.ERATELIMITED:
		default:
			t.Errorf("creator %d: %v", i, err)
		}
	}
	if created != bound {
		t.Errorf("%d of %d concurrent creations under a bound of %d succeeded", created, creators, bound)
	}
	wantRunning(t, "after concurrent creations", s, bound)
	if _, total, err := s.TaskList(t.Context(), store.TaskFilter{}, store.Page{}); err != nil || total != bound {
		t.Errorf("after concurrent creations: %d tasks stored, %v; want %d", total, err, bound)
	}
}

func testTaskClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.TaskClaim(ctx, "instance-a", minutes(0), minutes(10))
	wantCode(t, "TaskClaim with no task", err, gathering.ENOTFOUND)
	// task-a and task-b were created in the same millisecond: the id decides.
	created := createTasks(t, s, newTask("task-c", 2), newTask("task-b", 1), newTask("task-a", 1), newTask("task-p", 0))
	if _, err := s.TaskPause(ctx, "task-p", minutes(1)); err != nil {
		t.Fatalf("TaskPause: %v", err)
	}
	_, err = s.TaskClaim(ctx, "", minutes(3), minutes(13))
	wantCode(t, "TaskClaim without an owner", err, gathering.EINVALID)
	var claimed []store.BackgroundTask
	for i, id := range []string{"task-a", "task-b", "task-c"} {
		got := claimTask(t, s, "instance-a", 3, 13)
		want := created[2-i]
		want.StartedAt, want.Owner, want.Epoch, want.LeaseUntil = minutes(3), "instance-a", 1, minutes(13)
		if want.ID != id || !reflect.DeepEqual(got, want) {
			t.Errorf("claim %d: TaskClaim = %+v;\nwant %+v", i, got, want)
		}
		wantTask(t, "after TaskClaim", s, want)
		claimed = append(claimed, got)
	}
	if _, err := s.TaskCancel(ctx, "task-c", minutes(5)); err != nil {
		t.Fatalf("TaskCancel: %v", err)
	}
	// Live leases are not taken; a lease that ends at now has not ended
	// before now; a paused task waits for its resume.
	for _, now := range []int{12, 13} {
		_, err = s.TaskClaim(ctx, "instance-b", minutes(now), minutes(now+10))
		wantCode(t, fmt.Sprintf("TaskClaim at minute %d of tasks leased until 13", now), err, gathering.ENOTFOUND)
	}
	// Expired leases are taken over, oldest task first, with the next
	// epoch; each task keeps its first start. A finished task is never
	// taken.
	for i := range 2 {
		got := claimTask(t, s, "instance-b", 14, 24)
		want := claimed[i]
		want.Owner, want.Epoch, want.LeaseUntil = "instance-b", 2, minutes(24)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("reclaim %d: TaskClaim = %+v;\nwant %+v", i, got, want)
		}
	}
	_, err = s.TaskClaim(ctx, "instance-b", minutes(20), minutes(30))
	wantCode(t, "TaskClaim with only paused, finished and leased tasks", err, gathering.ENOTFOUND)
}

// testTaskClaimConcurrent checks that concurrent claims never take the
// same task and, together, take them all.
func testTaskClaimConcurrent(t *testing.T, s store.Store) {
	const tasks, claimers = 20, 8
	var want []string
	for i := range tasks {
		want = append(want, createTasks(t, s, newTask(fmt.Sprintf("task-%02d", i), i))[0].ID)
	}
	claimEachOnce(t, claimers, want,
		func(owner string) (string, error) {
			got, err := s.TaskClaim(t.Context(), owner, minutes(30), minutes(40))
			return got.ID, err
		},
		func(id string) (string, int64, string, error) {
			got, err := s.TaskGet(t.Context(), id)
			return got.Owner, got.Epoch, fmt.Sprintf("%+v", got), err
		})
}

// testTaskReclaim checks that the claim of a task whose instance died
// interrupts the steps it left running.
func testTaskReclaim(t *testing.T, s store.Store) {
	first := startTask(t, s, newTask("task-1", 0), "instance-a", 1, 5)
	l := store.TaskLeaseOf(first)
	done := endStep(startStep(t, s, l, 1, 2), store.StepCompleted, 3, 10, 2, 0.25)
	finishStep(t, s, l, done, store.TaskProgress{UsedMS: 60_000})
	running := startStep(t, s, l, 2, 4)
	got := claimTask(t, s, "instance-b", 6, 16) // the lease of instance-a ended at minute 5
	want := first
	want.Owner, want.Epoch, want.LeaseUntil = "instance-b", 2, minutes(16)
	want.UsedMS, want.InputTokens, want.OutputTokens, want.Cost, want.UpdatedAt = 60_000, 10, 2, 0.25, minutes(3)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TaskClaim of an expired lease = %+v;\nwant %+v", got, want)
	}
	wantSteps(t, "after the reclaim", s, first.ID, done, interrupted(running, 6))
	// No checkpoint yet: the new owner starts over from step 1.
	redo := startStep(t, s, store.TaskLeaseOf(got), 1, 7)
	wantSteps(t, "after starting over", s, first.ID, redo)
}

// testTaskFencing checks that every write under a lease that no longer
// holds is refused and changes nothing.
func testTaskFencing(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := startTask(t, s, newTask("task-1", 0), "instance-a", 1, 5)
	old := store.TaskLeaseOf(first)
	running := startStep(t, s, old, 1, 2)
	second := claimTask(t, s, "instance-b", 6, 16) // the lease of instance-a ended at minute 5
	writes := func(op string, l store.Lease, code string) {
		t.Helper()
		start := store.TaskStep{TaskID: l.RunID, Step: 2, Status: store.StepRunning, StartedAt: minutes(7)}
		wantCode(t, "TaskStepStart "+op, s.TaskStepStart(ctx, l, start), code)
		end := store.TaskStep{TaskID: l.RunID, Step: 1, Status: store.StepCompleted, FinishedAt: minutes(7)}
		wantCode(t, "TaskStepFinish "+op, s.TaskStepFinish(ctx, l, end, store.TaskProgress{UsedMS: 1}), code)
		_, err := s.TaskFinish(ctx, l, store.TaskEnd{Status: store.TaskCompleted, Result: "late", At: minutes(8)})
		wantCode(t, "TaskFinish "+op, err, code)
		if err := s.TaskRelease(ctx, l, minutes(8)); err != nil {
			t.Errorf("TaskRelease %s: %v", op, err)
		}
	}
	for name, l := range map[string]store.Lease{
		"under a lease taken over": old,
		"under another owner":      {RunID: old.RunID, Owner: "instance-c", Epoch: second.Epoch},
		"under a later epoch":      {RunID: old.RunID, Owner: second.Owner, Epoch: second.Epoch + 1},
		"under no owner":           {RunID: old.RunID, Epoch: second.Epoch},
	} {
		writes(name, l, gathering.ECONFLICT)
	}
	writes("of a missing task", store.Lease{RunID: "task-missing", Owner: "instance-a", Epoch: 1}, gathering.ENOTFOUND)
	wantTask(t, "after refused writes", s, second)
	wantSteps(t, "after refused writes", s, first.ID, interrupted(running, 6))
	// An unclaimed task has no lease, not even an empty one.
	createTasks(t, s, newTask("task-2", 10))
	empty := store.Lease{RunID: "task-2"}
	wantCode(t, "TaskStepStart under the empty lease of an unclaimed task",
		s.TaskStepStart(ctx, empty, store.TaskStep{TaskID: "task-2", Step: 1, StartedAt: minutes(11)}), gathering.ECONFLICT)
	if lost, err := s.TaskHeartbeat(ctx, []store.Lease{empty}, minutes(20)); err != nil || !slices.Equal(lost, []string{"task-2"}) {
		t.Errorf("TaskHeartbeat of the empty lease of an unclaimed task = %v, %v; want it lost", lost, err)
	}
	wantSteps(t, "of the unclaimed task", s, "task-2")
}

func testTaskHeartbeat(t *testing.T, s store.Store) {
	ctx := t.Context()
	lost := startTask(t, s, newTask("task-lost", 1), "instance-a", 1, 5)
	kept := startTask(t, s, newTask("task-kept", 2), "instance-a", 2, 20)
	paused := startTask(t, s, newTask("task-paused", 3), "instance-a", 3, 20)
	cancelled := startTask(t, s, newTask("task-cancelled", 4), "instance-a", 4, 20)
	finished := startTask(t, s, newTask("task-finished", 5), "instance-a", 5, 20)
	pausedNow, err := s.TaskPause(ctx, paused.ID, minutes(6))
	if err != nil {
		t.Fatalf("TaskPause: %v", err)
	}
	cancelledNow, err := s.TaskCancel(ctx, cancelled.ID, minutes(6))
	if err != nil {
		t.Fatalf("TaskCancel: %v", err)
	}
	finishedNow, err := s.TaskFinish(ctx, store.TaskLeaseOf(finished), store.TaskEnd{Status: store.TaskCompleted, At: minutes(6)})
	if err != nil {
		t.Fatalf("TaskFinish: %v", err)
	}
	taken := claimTask(t, s, "instance-b", 6, 30) // the lease of task-lost ended at minute 5
	leases := []store.Lease{store.TaskLeaseOf(lost), store.TaskLeaseOf(kept), store.TaskLeaseOf(paused),
		store.TaskLeaseOf(cancelled), store.TaskLeaseOf(finished), store.TaskLeaseOf(kept),
		{RunID: "task-missing", Owner: "instance-a", Epoch: 1}}
	failed, err := s.TaskHeartbeat(ctx, leases, minutes(40))
	want := []string{"task-cancelled", "task-finished", "task-lost", "task-missing", "task-paused"}
	if err != nil || !slices.Equal(failed, want) {
		t.Errorf("TaskHeartbeat = %v, %v; want %v", failed, err, want)
	}
	kept.LeaseUntil = minutes(40)
	wantTask(t, "the lease that holds", s, kept)
	wantTask(t, "the lease taken over", s, taken)
	wantTask(t, "the paused task", s, pausedNow)
	wantTask(t, "the cancelled task", s, cancelledNow)
	wantTask(t, "the finished task", s, finishedNow)
	if failed, err := s.TaskHeartbeat(ctx, nil, minutes(50)); err != nil || len(failed) != 0 {
		t.Errorf("TaskHeartbeat of no lease = %v, %v", failed, err)
	}
	if failed, err := s.TaskHeartbeat(ctx, []store.Lease{store.TaskLeaseOf(kept)}, minutes(50)); err != nil || len(failed) != 0 {
		t.Errorf("TaskHeartbeat of a lease that holds = %v, %v; want none lost", failed, err)
	}
}

func testTaskRelease(t *testing.T, s store.Store) {
	ctx := t.Context()
	task, steps := withSteps(t, s, "task-1")
	l := store.TaskLeaseOf(task)
	stale := l
	stale.Epoch++
	if err := s.TaskRelease(ctx, stale, minutes(9)); err != nil {
		t.Errorf("TaskRelease of a lease that does not hold: %v", err)
	}
	wantTask(t, "after releasing a lease that does not hold", s, task)
	wantSteps(t, "after releasing a lease that does not hold", s, task.ID, steps...)
	if err := s.TaskRelease(ctx, l, minutes(10)); err != nil {
		t.Fatalf("TaskRelease: %v", err)
	}
	// The checkpoint stays: the next owner redoes the steps after it.
	released := task
	released.Owner, released.LeaseUntil = "", minutes(10)
	wantTask(t, "after TaskRelease", s, released)
	cut := []store.TaskStep{steps[0], steps[1], steps[2], interrupted(steps[3], 10)}
	wantSteps(t, "after TaskRelease", s, task.ID, cut...)
	if err := s.TaskRelease(ctx, l, minutes(11)); err != nil {
		t.Errorf("second TaskRelease: %v", err)
	}
	wantTask(t, "after a second TaskRelease", s, released)
	if err := s.TaskRelease(ctx, store.Lease{RunID: "task-missing", Owner: "instance-a", Epoch: 1}, minutes(11)); err != nil {
		t.Errorf("TaskRelease of a missing task: %v", err)
	}
	// A task without an owner is taken by the next claim, at once.
	got := claimTask(t, s, "instance-b", 10, 20)
	want := released
	want.Owner, want.Epoch, want.LeaseUntil = "instance-b", 2, minutes(20)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TaskClaim after the release = %+v;\nwant %+v", got, want)
	}
	wantCode(t, "TaskStepStart under the released lease",
		s.TaskStepStart(ctx, l, store.TaskStep{TaskID: task.ID, Step: 2, StartedAt: minutes(12)}), gathering.ECONFLICT)
	next := startStep(t, s, store.TaskLeaseOf(got), 2, 12)
	wantSteps(t, "after the next owner's first step", s, task.ID, steps[0], next)
}

// testTaskSteps checks starting and finishing steps: the usage adds up,
// the session is kept, the checkpoint moves only when asked, and starting
// a step again drops the steps after it.
func testTaskSteps(t *testing.T, s store.Store) {
	ctx := t.Context()
	task := startTask(t, s, newTask("task-1", 0), "instance-a", 1, 100)
	l := store.TaskLeaseOf(task)
	first := startStep(t, s, l, 1, 2)
	wantSteps(t, "after TaskStepStart", s, task.ID, first)
	wantTask(t, "after TaskStepStart", s, task)
	first = endStep(first, store.StepCompleted, 3, 1200, 345, 0.5)
	first.ToolCalls, first.ToolResults = json.RawMessage(oddToolCalls), json.RawMessage(oddToolResults)
	finishStep(t, s, l, first, store.TaskProgress{SessionID: "session-1", UsedMS: 61_000})
	task.SessionID, task.UsedMS, task.InputTokens, task.OutputTokens, task.Cost = "session-1", 61_000, 1200, 345, 0.5
	task.UpdatedAt = minutes(3)
	wantTask(t, "after the first step, not a checkpoint", s, task)
	wantSteps(t, "after the first step", s, task.ID, first)
	if got, err := s.TaskSteps(ctx, task.ID); err != nil || len(got) != 1 || string(got[0].ToolCalls) != oddToolCalls ||
		string(got[0].ToolResults) != oddToolResults || got[0].StartedAt.Location() != time.UTC {
		t.Errorf("step did not read back byte for byte, in UTC: %s, %v", showSteps(got), err)
	}
	second := endStep(startStep(t, s, l, 2, 4), store.StepFailed, 5, 100, 20, 0.25)
	second.ErrorCode, second.Error = gathering.EUNAVAILABLE, "The provider is down."
	finishStep(t, s, l, second, store.TaskProgress{UsedMS: 1_000, Checkpoint: true})
	task.CheckpointStep, task.UsedMS, task.InputTokens, task.OutputTokens, task.Cost = 2, 62_000, 1300, 365, 0.75
	task.UpdatedAt = minutes(5) // no session given: the session stays
	wantTask(t, "after the second step, a checkpoint", s, task)
	third := endStep(startStep(t, s, l, 3, 6), store.StepCompleted, 7, 1, 1, 0.125)
	finishStep(t, s, l, third, store.TaskProgress{SessionID: "session-2", UsedMS: 500})
	task.SessionID, task.UsedMS, task.InputTokens, task.OutputTokens, task.Cost = "session-2", 62_500, 1301, 366, 0.875
	task.UpdatedAt = minutes(7)
	wantTask(t, "after the third step", s, task)
	fourth := startStep(t, s, l, 4, 8)
	wantSteps(t, "after four steps", s, task.ID, first, second, third, fourth)
	// Starting step 3 again drops the steps numbered 3 or more; what they
	// used stays in the totals.
	again := startStep(t, s, l, 3, 9)
	wantSteps(t, "after starting step 3 again", s, task.ID, first, second, again)
	wantTask(t, "after starting step 3 again", s, task)
	again = endStep(again, store.StepInterrupted, 10, 0, 0, 0)
	finishStep(t, s, l, again, store.TaskProgress{UsedMS: 10})
	task.UsedMS, task.UpdatedAt = 62_510, minutes(10)
	wantTask(t, "after an interrupted step", s, task)
	wantSteps(t, "after an interrupted step", s, task.ID, first, second, again)
	wantSteps(t, "of a missing task", s, "task-missing")
}

func testTaskStepStartBounds(t *testing.T, s store.Store) {
	ctx := t.Context()
	task := newTask("task-1", 0)
	task.MaxSteps = 3
	l := store.TaskLeaseOf(startTask(t, s, task, "instance-a", 1, 100))
	done := endStep(startStep(t, s, l, 1, 2), store.StepCompleted, 3, 0, 0, 0)
	finishStep(t, s, l, done, store.TaskProgress{Checkpoint: true})
	for _, n := range []int{-1, 0, 1, 4} {
		st := store.TaskStep{TaskID: l.RunID, Step: n, Status: store.StepRunning, StartedAt: minutes(4)}
		wantCode(t, fmt.Sprintf("TaskStepStart of step %d after checkpoint 1, at most 3", n),
			s.TaskStepStart(ctx, l, st), gathering.EINVALID)
	}
	wantCode(t, "TaskStepStart of another task's step",
		s.TaskStepStart(ctx, l, store.TaskStep{TaskID: "task-2", Step: 2, StartedAt: minutes(4)}), gathering.EINVALID)
	wantSteps(t, "after refused starts", s, l.RunID, done)
	last := startStep(t, s, l, 3, 5)
	wantSteps(t, "after starting the last step", s, l.RunID, done, last)
}

func testTaskStepFinishRefuses(t *testing.T, s store.Store) {
	ctx := t.Context()
	task := startTask(t, s, newTask("task-1", 0), "instance-a", 1, 100)
	l := store.TaskLeaseOf(task)
	running := startStep(t, s, l, 1, 2)
	for name, change := range map[string]func(st *store.TaskStep){
		"status running":       func(st *store.TaskStep) { st.Status = store.StepRunning },
		"an unknown status":    func(st *store.TaskStep) { st.Status = "done" },
		"malformed tool calls": func(st *store.TaskStep) { st.ToolCalls = json.RawMessage(`[{]`) },
		"empty tool results":   func(st *store.TaskStep) { st.ToolResults = json.RawMessage{} },
		"two values":           func(st *store.TaskStep) { st.ToolCalls = json.RawMessage(`[] []`) },
		"invalid UTF-8":        func(st *store.TaskStep) { st.ToolResults = json.RawMessage("[\"\xff\"]") },
		"another task":         func(st *store.TaskStep) { st.TaskID = "task-2" },
	} {
		st := endStep(running, store.StepCompleted, 3, 1, 1, 1)
		change(&st)
		wantCode(t, "TaskStepFinish with "+name, s.TaskStepFinish(ctx, l, st, store.TaskProgress{UsedMS: 1}), gathering.EINVALID)
	}
	missing := endStep(running, store.StepCompleted, 3, 1, 1, 1)
	missing.Step = 2
	wantCode(t, "TaskStepFinish of a missing step", s.TaskStepFinish(ctx, l, missing, store.TaskProgress{}), gathering.ENOTFOUND)
	done := endStep(running, store.StepCompleted, 3, 1, 1, 1)
	finishStep(t, s, l, done, store.TaskProgress{UsedMS: 1})
	wantCode(t, "TaskStepFinish of a finished step",
		s.TaskStepFinish(ctx, l, endStep(running, store.StepFailed, 4, 5, 5, 5), store.TaskProgress{UsedMS: 5}), gathering.ENOTFOUND)
	task.UsedMS, task.InputTokens, task.OutputTokens, task.Cost, task.UpdatedAt = 1, 1, 1, 1, minutes(3)
	wantTask(t, "after refused step ends", s, task)
	wantSteps(t, "after refused step ends", s, task.ID, done)
}

func testTaskPause(t *testing.T, s store.Store) {
	ctx := t.Context()
	task, steps := withSteps(t, s, "task-1")
	got, err := s.TaskPause(ctx, task.ID, minutes(10))
	want := task
	want.Status, want.Owner, want.LeaseUntil, want.CheckpointStep, want.UpdatedAt = store.TaskPaused, "", time.Time{}, 3, minutes(10)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("TaskPause = %+v, %v;\nwant %+v", got, err, want)
	}
	wantTask(t, "after TaskPause", s, want)
	wantSteps(t, "after TaskPause", s, task.ID, steps[0], steps[1], steps[2], interrupted(steps[3], 10))
	_, err = s.TaskPause(ctx, task.ID, minutes(11))
	wantCode(t, "TaskPause of a paused task", err, gathering.ECONFLICT)
	_, err = s.TaskPause(ctx, "task-missing", minutes(11))
	wantCode(t, "TaskPause of a missing task", err, gathering.ENOTFOUND)
	// The lease is lost: its writes are refused, its heartbeat reports it,
	// and no claim takes the task.
	l := store.TaskLeaseOf(task)
	wantCode(t, "TaskStepStart after TaskPause",
		s.TaskStepStart(ctx, l, store.TaskStep{TaskID: task.ID, Step: 4, StartedAt: minutes(12)}), gathering.ECONFLICT)
	if lost, err := s.TaskHeartbeat(ctx, []store.Lease{l}, minutes(200)); err != nil || !slices.Equal(lost, []string{task.ID}) {
		t.Errorf("TaskHeartbeat after TaskPause = %v, %v; want the lease lost", lost, err)
	}
	_, err = s.TaskClaim(ctx, "instance-b", minutes(200), minutes(210))
	wantCode(t, "TaskClaim of a paused task", err, gathering.ENOTFOUND)
	wantTask(t, "after refused writes", s, want)
	// The checkpoint never moves back: a failed step may be a checkpoint.
	other := startTask(t, s, newTask("task-2", 20), "instance-a", 21, 100)
	l = store.TaskLeaseOf(other)
	finishStep(t, s, l, endStep(startStep(t, s, l, 1, 22), store.StepCompleted, 23, 0, 0, 0), store.TaskProgress{})
	finishStep(t, s, l, endStep(startStep(t, s, l, 2, 24), store.StepFailed, 25, 0, 0, 0), store.TaskProgress{Checkpoint: true})
	if got, err := s.TaskPause(ctx, other.ID, minutes(26)); err != nil || got.CheckpointStep != 2 {
		t.Errorf("TaskPause with a checkpoint above the completed steps = %+v, %v; want checkpoint step 2", got, err)
	}
	if _, err := s.TaskCancel(ctx, other.ID, minutes(27)); err != nil {
		t.Fatalf("TaskCancel: %v", err)
	}
	_, err = s.TaskPause(ctx, other.ID, minutes(28))
	wantCode(t, "TaskPause of a cancelled task", err, gathering.ECONFLICT)
}

// testTaskPauseRace pauses a task while its instance finishes a step,
// many times over: whichever comes first, the step is never left running,
// and the checkpoint counts it exactly when it completed.
func testTaskPauseRace(t *testing.T, s store.Store) {
	const rounds = 30
	for i := range rounds {
		task := startTask(t, s, newTask(fmt.Sprintf("task-%02d", i), i), "instance-a", i, i+100)
		l := store.TaskLeaseOf(task)
		done := endStep(startStep(t, s, l, 1, i), store.StepCompleted, i+1, 1, 1, 0)
		var finishErr, pauseErr error
		var wg sync.WaitGroup
		wg.Go(func() { finishErr = s.TaskStepFinish(t.Context(), l, done, store.TaskProgress{UsedMS: 1}) })
		wg.Go(func() { _, pauseErr = s.TaskPause(t.Context(), task.ID, minutes(i+1)) })
		wg.Wait()
		if pauseErr != nil {
			t.Fatalf("round %d: TaskPause: %v", i, pauseErr)
		}
		steps, err := s.TaskSteps(t.Context(), task.ID)
		paused := getTask(t, s, task.ID)
		switch {
		case err != nil || len(steps) != 1:
			t.Errorf("round %d: TaskSteps = %s, %v", i, showSteps(steps), err)
		case finishErr == nil && (steps[0].Status != store.StepCompleted || paused.CheckpointStep != 1):
			t.Errorf("round %d: the step finished first, but its task is %+v and steps %s", i, paused, showSteps(steps))
		case finishErr != nil && (gathering.ErrorCode(finishErr) != gathering.ECONFLICT ||
			steps[0].Status != store.StepInterrupted || paused.CheckpointStep != 0):
			t.Errorf("round %d: the pause came first (%v), but the task is %+v and steps %s", i, finishErr, paused,
				showSteps(steps))
		}
	}
}

func testTaskResume(t *testing.T, s store.Store) {
	ctx := t.Context()
	task, steps := withSteps(t, s, "task-1")
	paused, err := s.TaskPause(ctx, task.ID, minutes(10))
	if err != nil {
		t.Fatalf("TaskPause: %v", err)
	}
	_, err = s.TaskResume(ctx, "task-missing", noLimit, minutes(11))
	wantCode(t, "TaskResume of a missing task", err, gathering.ENOTFOUND)
	other := createTasks(t, s, newTask("task-2", 11))[0]
	_, err = s.TaskResume(ctx, task.ID, 1, minutes(12))
	wantCode(t, "TaskResume at the bound", err, gathering.ERATELIMITED)
	wantTask(t, "after a refused resume", s, paused)
	_, err = s.TaskResume(ctx, other.ID, noLimit, minutes(12))
	wantCode(t, "TaskResume of a running task", err, gathering.ECONFLICT)
	got, err := s.TaskResume(ctx, task.ID, 2, minutes(13))
	want := paused
	want.Status, want.UpdatedAt = store.TaskRunning, minutes(13)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("TaskResume = %+v, %v;\nwant %+v", got, err, want)
	}
	wantTask(t, "after TaskResume", s, want)
	wantSteps(t, "after TaskResume", s, task.ID, steps[0], steps[1], steps[2], interrupted(steps[3], 10))
	wantRunning(t, "after TaskResume", s, 2)
	_, err = s.TaskResume(ctx, task.ID, noLimit, minutes(14))
	wantCode(t, "second TaskResume", err, gathering.ECONFLICT)
	// The next claim takes it, with the next epoch, to continue after its
	// checkpoint.
	claimed := claimTask(t, s, "instance-b", 14, 24)
	want.Owner, want.Epoch, want.LeaseUntil = "instance-b", 2, minutes(24)
	if !reflect.DeepEqual(claimed, want) {
		t.Errorf("TaskClaim after TaskResume = %+v;\nwant %+v", claimed, want)
	}
	next := startStep(t, s, store.TaskLeaseOf(claimed), 4, 15)
	wantSteps(t, "after the next step", s, task.ID, steps[0], steps[1], steps[2], next)
	if _, err := s.TaskCancel(ctx, other.ID, minutes(16)); err != nil {
		t.Fatalf("TaskCancel: %v", err)
	}
	_, err = s.TaskResume(ctx, other.ID, noLimit, minutes(17))
	wantCode(t, "TaskResume of a cancelled task", err, gathering.ECONFLICT)
}

func testTaskCancel(t *testing.T, s store.Store) {
	ctx := t.Context()
	task, steps := withSteps(t, s, "task-1")
	got, err := s.TaskCancel(ctx, task.ID, minutes(10))
	want := task
	want.Status, want.Owner, want.LeaseUntil, want.FinishedAt, want.UpdatedAt = store.TaskCancelled, "", time.Time{},
		minutes(10), minutes(10)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("TaskCancel of a running task = %+v, %v;\nwant %+v", got, err, want)
	}
	wantTask(t, "after TaskCancel", s, want)
	wantSteps(t, "after TaskCancel", s, task.ID, steps[0], steps[1], steps[2], interrupted(steps[3], 10))
	_, err = s.TaskCancel(ctx, task.ID, minutes(11))
	wantCode(t, "TaskCancel of a cancelled task", err, gathering.ECONFLICT)
	_, err = s.TaskFinish(ctx, store.TaskLeaseOf(task), store.TaskEnd{Status: store.TaskCompleted, At: minutes(11)})
	wantCode(t, "TaskFinish after TaskCancel", err, gathering.ECONFLICT)
	wantTask(t, "after refused changes", s, want)
	paused := createTasks(t, s, newTask("task-2", 20))[0]
	if paused, err = s.TaskPause(ctx, paused.ID, minutes(21)); err != nil {
		t.Fatalf("TaskPause: %v", err)
	}
	got, err = s.TaskCancel(ctx, paused.ID, minutes(22))
	paused.Status, paused.FinishedAt, paused.UpdatedAt = store.TaskCancelled, minutes(22), minutes(22)
	if err != nil || !reflect.DeepEqual(got, paused) {
		t.Errorf("TaskCancel of a paused task = %+v, %v;\nwant %+v", got, err, paused)
	}
	done := startTask(t, s, newTask("task-3", 30), "instance-a", 31, 100)
	done, err = s.TaskFinish(ctx, store.TaskLeaseOf(done), store.TaskEnd{Status: store.TaskCompleted, At: minutes(32)})
	if err != nil {
		t.Fatalf("TaskFinish: %v", err)
	}
	_, err = s.TaskCancel(ctx, done.ID, minutes(33))
	wantCode(t, "TaskCancel of a completed task", err, gathering.ECONFLICT)
	wantTask(t, "after TaskCancel of a completed task", s, done)
	_, err = s.TaskCancel(ctx, "task-missing", minutes(33))
	wantCode(t, "TaskCancel of a missing task", err, gathering.ENOTFOUND)
	wantRunning(t, "after the cancels", s, 0)
}

func testTaskFinish(t *testing.T, s store.Store) {
	ctx := t.Context()
	task, steps := withSteps(t, s, "task-1")
	l := store.TaskLeaseOf(task)
	for _, status := range []store.TaskStatus{store.TaskRunning, store.TaskPaused, store.TaskCancelled, "", "done"} {
		_, err := s.TaskFinish(ctx, l, store.TaskEnd{Status: status, At: minutes(9)})
		wantCode(t, fmt.Sprintf("TaskFinish as %q", status), err, gathering.EINVALID)
	}
	wantTask(t, "after refused ends", s, task)
	got, err := s.TaskFinish(ctx, l, store.TaskEnd{Status: store.TaskFailed, Result: "partial", ErrorCode: "max_steps",
		Error: "Out of steps.", At: minutes(10)})
	want := task // the owner and epoch stay on record
	want.Status, want.Result, want.ErrorCode, want.Error = store.TaskFailed, "partial", "max_steps", "Out of steps."
	want.FinishedAt, want.UpdatedAt, want.LeaseUntil = minutes(10), minutes(10), minutes(10)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("TaskFinish = %+v, %v;\nwant %+v", got, err, want)
	}
	wantTask(t, "after TaskFinish", s, want)
	wantSteps(t, "after TaskFinish", s, task.ID, steps[0], steps[1], steps[2], interrupted(steps[3], 10))
	_, err = s.TaskFinish(ctx, l, store.TaskEnd{Status: store.TaskCompleted, At: minutes(11)})
	wantCode(t, "second TaskFinish", err, gathering.ECONFLICT)
	wantTask(t, "after a second TaskFinish", s, want)
	_, err = s.TaskFinish(ctx, store.Lease{RunID: "task-missing", Owner: "instance-a", Epoch: 1},
		store.TaskEnd{Status: store.TaskCompleted, At: minutes(11)})
	wantCode(t, "TaskFinish of a missing task", err, gathering.ENOTFOUND)
	for i, status := range []store.TaskStatus{store.TaskCompleted, store.TaskTimedOut} {
		next := startTask(t, s, newTask(fmt.Sprint("task-", status), 20+i), "instance-a", 20+i, 100)
		got, err := s.TaskFinish(ctx, store.TaskLeaseOf(next), store.TaskEnd{Status: status, At: minutes(30)})
		if err != nil || got.Status != status || !got.FinishedAt.Equal(minutes(30)) {
			t.Errorf("TaskFinish as %s = %+v, %v", status, got, err)
		}
	}
	wantRunning(t, "after TaskFinish", s, 0)
}

func testTaskList(t *testing.T, s store.Store) {
	ctx := t.Context()
	of := func(id string, n int, agent, user int64) store.BackgroundTask {
		task := newTask(id, n)
		task.AgentID, task.UserID = agent, user
		return task
	}
	// task-c and task-d were created in the same millisecond: newest first
	// means the greater id first.
	createTasks(t, s, of("task-a", 1, 1, 10), of("task-b", 2, 2, 10), of("task-d", 3, 1, 20), of("task-c", 3, 1, 10),
		of("task-e", 4, 2, 20))
	if _, err := s.TaskPause(ctx, "task-b", minutes(5)); err != nil {
		t.Fatalf("TaskPause: %v", err)
	}
	if _, err := s.TaskCancel(ctx, "task-e", minutes(5)); err != nil {
		t.Fatalf("TaskCancel: %v", err)
	}
	a := claimTask(t, s, "instance-a", 6, 50)
	if _, err := s.TaskFinish(ctx, store.TaskLeaseOf(a), store.TaskEnd{Status: store.TaskCompleted, At: minutes(7)}); a.ID != "task-a" || err != nil {
		t.Fatalf("claimed %s and finished it: %v; want task-a", a.ID, err)
	}
	// Now: a completed, b paused, c and d running, e cancelled.
	all := []string{"task-e", "task-d", "task-c", "task-b", "task-a"}
	for _, c := range []struct {
		filter store.TaskFilter
		page   store.Page
		want   []string
		total  int
	}{
		{store.TaskFilter{}, store.Page{}, all, 5},
		{store.TaskFilter{}, store.Page{Limit: 2, Offset: 1}, all[1:3], 5},
		{store.TaskFilter{}, store.Page{Offset: 9}, nil, 5},
		{store.TaskFilter{}, store.Page{Offset: -1, Limit: 1000}, all, 5},
		{store.TaskFilter{AgentID: 1}, store.Page{}, []string{"task-d", "task-c", "task-a"}, 3},
		{store.TaskFilter{AgentID: 2}, store.Page{Limit: 1}, []string{"task-e"}, 2},
		{store.TaskFilter{UserID: 10}, store.Page{}, []string{"task-c", "task-b", "task-a"}, 3},
		{store.TaskFilter{AgentID: 1, UserID: 20}, store.Page{}, []string{"task-d"}, 1},
		{store.TaskFilter{Status: store.TaskRunning}, store.Page{}, []string{"task-d", "task-c"}, 2},
		{store.TaskFilter{Status: store.TaskPaused}, store.Page{}, []string{"task-b"}, 1},
		{store.TaskFilter{AgentID: 2, Status: store.TaskRunning}, store.Page{}, nil, 0},
		{store.TaskFilter{AgentID: 1, UserID: 10, Status: store.TaskCompleted}, store.Page{}, []string{"task-a"}, 1},
		{store.TaskFilter{UserID: 99}, store.Page{}, nil, 0},
	} {
		list, total, err := s.TaskList(ctx, c.filter, c.page)
		var got []string
		for _, task := range list {
			got = append(got, task.ID)
		}
		if err != nil || total != c.total || !slices.Equal(got, c.want) {
			t.Errorf("TaskList(%+v, %+v) = %v, total %d, %v; want %v, total %d", c.filter, c.page, got, total, err,
				c.want, c.total)
		}
	}
	if list, _, err := s.TaskList(ctx, store.TaskFilter{Status: store.TaskCompleted}, store.Page{}); err != nil ||
		len(list) != 1 || !reflect.DeepEqual(list[0], getTask(t, s, "task-a")) {
		t.Errorf("TaskList item = %+v, %v; want TaskGet's task-a", list, err)
	}
	_, _, err := s.TaskList(ctx, store.TaskFilter{Status: "pending"}, store.Page{})
	wantCode(t, "TaskList of an unknown status", err, gathering.EINVALID)
	wantRunning(t, "with two running tasks", s, 2)
}
