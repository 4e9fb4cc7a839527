package background_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/store"
)

// stall is a reply that hangs until the client gives up.
var stall = openaitest.Reply{Stall: time.Minute}

func TestTaskWorksStepByStepWithTools(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	sub, err := r.bus.Subscribe(event.SubscribeOptions{Filter: event.Filter{Types: []string{"background_task.*"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	r.fake.Push(
		openaitest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "notes__add", Arguments: json.RawMessage(`{"text": "first"}`)}},
			Usage: llm.Usage{InputTokens: 100, OutputTokens: 10}},
		openaitest.Reply{Content: "Saved a note. Next: check it.", Usage: llm.Usage{InputTokens: 120, OutputTokens: 20}},
		openaitest.Reply{Content: "task complete: The note is saved.", Usage: llm.Usage{InputTokens: 200, OutputTokens: 30}},
	)
	run := r.runner(t, background.Options{})
	task := r.create(t, run, "Save a note.", 5, 1)
	if task.Status != store.TaskRunning || task.MaxSteps != 5 || task.TimeoutSec != background.DefaultTimeoutSec {
		t.Fatalf("created %+v", task)
	}
	task = r.final(t, task.ID)
	if task.Status != store.TaskCompleted || task.Result != "The note is saved." {
		t.Fatalf("task %s %q (%s)", task.Status, task.Result, task.Error)
	}
	if task.InputTokens != 420 || task.OutputTokens != 60 || task.Cost <= 0 || task.SessionID == "" || task.CheckpointStep != 2 {
		t.Errorf("totals: %+v", task)
	}
	steps, err := r.db.TaskSteps(context.Background(), task.ID)
	if err != nil || len(steps) != 2 {
		t.Fatalf("steps %+v, %v", steps, err)
	}
	if !strings.Contains(string(steps[0].ToolCalls), `"notes.add"`) || !strings.Contains(string(steps[0].ToolResults), `"succeeded"`) ||
		steps[0].InputTokens != 220 || steps[0].Content != "Saved a note. Next: check it." || r.notes.Load() != 1 {
		t.Errorf("step 1: %+v (tool ran %d times)", steps[0], r.notes.Load())
	}
	if steps[1].ToolCalls != nil || steps[1].Status != store.StepCompleted {
		t.Errorf("step 2: %+v", steps[1])
	}
	if p := r.lastPrompt(t); !strings.Contains(p, "step 2 of at most 5") || !strings.Contains(p, "Save a note.") {
		t.Errorf("step 2 prompt: %q", p)
	}
	want := []string{"background_task.created", "background_task.started", "background_task.step.completed",
		"background_task.step.completed", "background_task.completed"}
	if got := eventTypes(t, sub, len(want)); !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// eventTypes reads n events' types, each on the task's and the agent's
// topics.
func eventTypes(t *testing.T, sub *event.Subscription, n int) []string {
	t.Helper()
	var got []string
	for len(got) < n {
		select {
		case f := <-sub.Frames():
			if f.Kind != event.KindEvent {
				continue
			}
			if len(f.Event.Topics) != 2 || !strings.HasPrefix(f.Event.Topics[0], "background_task:") || !strings.HasPrefix(f.Event.Topics[1], "agent:") {
				t.Errorf("%s topics %v", f.Event.Type, f.Event.Topics)
			}
			got = append(got, f.Event.Type)
		case <-time.After(10 * time.Second):
			t.Fatalf("events so far %v", got)
		}
	}
	return got
}

func TestTaskFailsAfterMaxSteps(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.fake.SetFallback(openaitest.Reply{Content: "Still working."})
	run := r.runner(t, background.Options{})
	task := r.final(t, r.create(t, run, "Never done.", 3, 1).ID)
	if task.Status != store.TaskFailed || task.ErrorCode != "max_steps" || r.chatRequests() != 3 {
		t.Fatalf("task %s %s %q after %d requests", task.Status, task.ErrorCode, task.Error, r.chatRequests())
	}
}

func TestTaskTimeoutCutsAStep(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.fake.Push(stall)
	run := r.runner(t, background.Options{})
	task, err := run.Create(context.Background(), background.NewTask{AgentID: r.agentID, UserID: r.userID, Goal: "Slow.", TimeoutSec: 1})
	if err != nil {
		t.Fatal(err)
	}
	task = r.final(t, task.ID)
	if task.Status != store.TaskTimedOut || task.ErrorCode != gathering.ETIMEOUT {
		t.Fatalf("task %s %s %q", task.Status, task.ErrorCode, task.Error)
	}
	if got := r.steps(t, task.ID); !slices.Equal(got, []string{"1:failed"}) {
		t.Errorf("steps %v", got)
	}
}

func TestPauseStopsAtOnceAndResumeContinuesFromTheNextStep(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.fake.Push(openaitest.Reply{Content: "Step one done."}, stall)
	run := r.runner(t, background.Options{})
	task := r.create(t, run, "Two steps.", 5, 1)
	r.waitRequests(t, 2)
	paused, err := run.Pause(context.Background(), task.ID)
	if err != nil || paused.Status != store.TaskPaused || paused.CheckpointStep != 1 {
		t.Fatalf("pause: %+v, %v", paused, err)
	}
	select {
	case <-r.chat.ended: // step one
	case <-time.After(time.Second):
	}
	select {
	case err := <-r.chat.ended:
		if err == nil {
			t.Fatal("the interrupted step ended without an error")
		}
	case <-time.After(time.Second):
		t.Fatal("the step in flight still runs a second after the pause")
	}
	if got := r.steps(t, task.ID); !slices.Equal(got, []string{"1:completed", "2:interrupted"}) {
		t.Fatalf("steps after pause %v", got)
	}
	if _, err := run.Pause(context.Background(), task.ID); gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Errorf("second pause: %v", err)
	}
	r.fake.Push(openaitest.Reply{Content: "TASK COMPLETE\nBoth steps done."})
	if _, err := run.Resume(context.Background(), task.ID); err != nil {
		t.Fatal(err)
	}
	task = r.final(t, task.ID)
	if task.Status != store.TaskCompleted || task.Result != "Both steps done." || r.chatRequests() != 3 {
		t.Fatalf("task %s %q after %d requests", task.Status, task.Result, r.chatRequests())
	}
	if p := r.lastPrompt(t); !strings.Contains(p, "step 2 of") {
		t.Errorf("resumed with %q", p)
	}
	if got := r.steps(t, task.ID); !slices.Equal(got, []string{"1:completed", "2:completed"}) {
		t.Errorf("steps %v", got)
	}
}

func TestCancelStopsWithinASecond(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.fake.Push(stall)
	run := r.runner(t, background.Options{})
	task := r.create(t, run, "Hang.", 5, 1)
	r.waitRequests(t, 1)
	cancelled, err := run.Cancel(context.Background(), task.ID)
	if err != nil || cancelled.Status != store.TaskCancelled {
		t.Fatalf("cancel: %+v, %v", cancelled, err)
	}
	select {
	case <-r.chat.ended:
	case <-time.After(time.Second):
		t.Fatal("the step still runs a second after the cancel")
	}
	time.Sleep(200 * time.Millisecond)
	if task = r.final(t, task.ID); task.Status != store.TaskCancelled || r.chatRequests() != 1 {
		t.Fatalf("task %s after %d requests", task.Status, r.chatRequests())
	}
	if got := r.steps(t, task.ID); !slices.Equal(got, []string{"1:interrupted"}) {
		t.Errorf("steps %v", got)
	}
	if _, err := run.Cancel(context.Background(), task.ID); gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Errorf("second cancel: %v", err)
	}
}

func TestSixthTaskIsRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.fake.SetFallback(stall)
	run := r.runner(t, background.Options{MaxRunning: 5})
	var ids []string
	for range 5 {
		ids = append(ids, r.create(t, run, "Hang.", 5, 1).ID)
	}
	_, err := run.Create(context.Background(), background.NewTask{AgentID: r.agentID, UserID: r.userID, Goal: "One more."})
	e, ok := errors.AsType[*gathering.Error](err)
	if !ok || e.Code != gathering.ERATELIMITED || e.RetryAfter <= 0 {
		t.Fatalf("sixth: %v", err)
	}
	if _, err := run.Pause(context.Background(), ids[0]); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, r.create(t, run, "Now there is room.", 5, 1).ID)
	if _, err := run.Resume(context.Background(), ids[0]); gathering.ErrorCode(err) != gathering.ERATELIMITED {
		t.Fatalf("resume over the limit: %v", err)
	}
	for _, id := range ids { // a stop would wait for the stalled steps
		if _, err := run.Cancel(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	run := r.runner(t, background.Options{})
	_, err := run.Create(context.Background(), background.NewTask{AgentID: 999, Goal: strings.Repeat("g", background.MaxGoalLength+1),
		MaxSteps: background.MaxSteps + 1, TimeoutSec: -1, CheckpointInterval: 200})
	var fields []string
	for _, f := range gathering.ErrorFields(err) {
		fields = append(fields, f.Field)
	}
	want := []string{"goal", "max_steps", "timeout_seconds", "checkpoint_interval", "agent_id"}
	if gathering.ErrorCode(err) != gathering.EINVALID || !slices.Equal(fields, want) {
		t.Fatalf("fields %v (%v), want %v", fields, err, want)
	}
}
