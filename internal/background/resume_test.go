package background_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/store"
)

// deadInstance works on a task as a process that then died would have:
// steps 1 and 2 completed (a checkpoint at 2 with interval 2), step 3
// completed without a checkpoint, step 4 in flight; its lease ends at
// leaseUntil.
func deadInstance(t *testing.T, r *rig, id string, leaseUntil time.Time) {
	t.Helper()
	ctx, now := context.Background(), time.Now()
	task, err := r.db.TaskClaim(ctx, "dead", now, leaseUntil)
	if err != nil || task.ID != id {
		t.Fatalf("claim: %+v, %v", task, err)
	}
	l := store.TaskLeaseOf(task)
	for n := 1; n <= 4; n++ {
		s := store.TaskStep{TaskID: id, Step: n, Status: store.StepRunning, StartedAt: now}
		if err := r.db.TaskStepStart(ctx, l, s); err != nil {
			t.Fatal(err)
		}
		if n == 4 {
			return
		}
		s.Status, s.Content, s.FinishedAt = store.StepCompleted, "done before the crash", now
		if err := r.db.TaskStepFinish(ctx, l, s, store.TaskProgress{Checkpoint: n%2 == 0}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRestartContinuesFromTheLastCheckpoint(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	creator := background.New(r.db, r.chat, nil, background.Options{})
	task := r.create(t, creator, "Six steps at most.", 6, 2)
	deadInstance(t, r, task.ID, time.Now().Add(time.Hour))
	r.fake.Push(openaitest.Reply{Content: "Step three again."}, openaitest.Reply{Content: "TASK COMPLETE: resumed"})
	r.runner(t, background.Options{Exclusive: true}) // the restarted process: the only one on its database
	task = r.final(t, task.ID)
	if task.Status != store.TaskCompleted || task.Result != "resumed" || r.chatRequests() != 2 {
		t.Fatalf("task %s %q after %d requests", task.Status, task.Result, r.chatRequests())
	}
	prompts := r.fake.Requests()
	if first := userText(prompts[0]); !strings.Contains(first, "step 3 of at most 6") {
		t.Errorf("the restart began with %q", first)
	}
	if got := r.steps(t, task.ID); !slices.Equal(got, []string{"1:completed", "2:completed", "3:completed", "4:completed"}) {
		t.Errorf("steps %v", got)
	}
	if task.CheckpointStep != 4 || task.Epoch != 2 {
		t.Errorf("checkpoint %d, epoch %d", task.CheckpointStep, task.Epoch)
	}
}

func TestADeadInstancesTaskWaitsForItsLease(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	creator := background.New(r.db, r.chat, nil, background.Options{})
	task := r.create(t, creator, "Six steps at most.", 6, 2)
	leaseEnd := time.Now().Add(2 * time.Second)
	deadInstance(t, r, task.ID, leaseEnd)
	r.fake.SetFallback(openaitest.Reply{Content: "TASK COMPLETE: taken over"})
	r.runner(t, background.Options{Lease: 900 * time.Millisecond}) // claims every 300 ms
	time.Sleep(time.Until(leaseEnd) - 300*time.Millisecond)
	if n := r.chatRequests(); n != 0 {
		t.Fatalf("%d chat requests while the dead instance's lease held", n)
	}
	task = r.final(t, task.ID)
	if task.Status != store.TaskCompleted || task.Result != "taken over" || !r.fake.Requests()[0].Time.After(leaseEnd) {
		t.Fatalf("task %s %q", task.Status, task.Result)
	}
}

func TestShutdownReleasesTheTaskForAnotherInstance(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.fake.Push(openaitest.Reply{Content: "One."}, stall)
	first := background.New(r.db, r.chat, r.bus, background.Options{Instance: "first", Lease: time.Hour})
	if err := first.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	task := r.create(t, first, "Go on elsewhere.", 5, 1)
	r.waitRequests(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	released, err := r.db.TaskGet(context.Background(), task.ID)
	if err != nil || released.Owner != "" || released.Status != store.TaskRunning || released.CheckpointStep != 1 {
		t.Fatalf("after shutdown %+v, %v", released, err)
	}
	r.fake.Push(openaitest.Reply{Content: "TASK COMPLETE: finished by the second"})
	r.runner(t, background.Options{})
	task = r.final(t, task.ID)
	if task.Status != store.TaskCompleted || r.chatRequests() != 3 {
		t.Fatalf("task %s after %d requests", task.Status, r.chatRequests())
	}
	if got := r.steps(t, task.ID); !slices.Equal(got, []string{"1:completed", "2:completed"}) {
		t.Errorf("steps %v", got)
	}
}

// userText is the last user message of a chat request.
func userText(req openaitest.Request) string {
	msgs, _ := req.Body["messages"].([]any)
	for i := len(msgs) - 1; i >= 0; i-- {
		if m, _ := msgs[i].(map[string]any); m["role"] == "user" {
			s, _ := m["content"].(string)
			return s
		}
	}
	return ""
}
