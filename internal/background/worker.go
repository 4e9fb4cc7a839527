package background

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// writeTimeout bounds the records made after a worker's context ended.
const writeTimeout = 10 * time.Second

// DoneMarker begins an agent's answer that reports the goal reached.
const DoneMarker = "TASK COMPLETE"

// errTimedOut is why a step's context ends when the task's time is up.
var errTimedOut = errors.New("the task ran out of time")

// worker works on one claimed task until it ends, is stopped, or loses
// its lease.
type worker struct {
	r     *Runner
	task  store.BackgroundTask
	lease store.Lease
	ctx   context.Context // cancelled with the cause: pause, cancel, lost lease or shutdown
}

// stopping reports whether the runner is stopping: the worker releases its
// task once the step in flight ends.
func (w *worker) stopping() bool {
	select {
	case <-w.r.workers.Stopping():
		return true
	default:
		return false
	}
}

// run works step by step from the step after the checkpoint.
func (w *worker) run() {
	t := w.task
	w.r.publish(w.ctx, "started", t, map[string]any{"step": t.CheckpointStep + 1, "epoch": t.Epoch})
	for n := t.CheckpointStep + 1; ; n++ {
		if w.stopping() || w.ctx.Err() != nil {
			w.leave()
			return
		}
		left := time.Duration(w.task.TimeoutSec)*time.Second - time.Duration(w.task.UsedMS)*time.Millisecond
		switch {
		case n > w.task.MaxSteps:
			w.finish(store.TaskEnd{Status: store.TaskFailed, ErrorCode: "max_steps",
				Error: fmt.Sprintf("The agent used its %d steps without reporting the goal reached.", w.task.MaxSteps)})
			return
		case left <= 0:
			w.finish(timedOut(w.task))
			return
		}
		if !w.step(n, left) {
			return
		}
	}
}

// step runs step n with at most left of the task's time, records it, and
// reports whether the task goes on.
func (w *worker) step(n int, left time.Duration) bool {
	s := store.TaskStep{TaskID: w.task.ID, Step: n, Status: store.StepRunning, StartedAt: time.Now()}
	if err := w.r.db.TaskStepStart(w.ctx, w.lease, s); err != nil {
		w.lost("starting a step", err)
		return false
	}
	ctx, stop := context.WithTimeoutCause(w.ctx, left, errTimedOut)
	res, err := w.r.chat.Chat(ctx, agent.ChatRequest{AgentID: w.task.AgentID, UserID: w.task.UserID,
		Message: prompt(w.task, n), SessionID: w.task.SessionID, AllowTools: true, LeaseOwner: "background_task:" + w.task.ID})
	timedOutNow := errors.Is(context.Cause(ctx), errTimedOut)
	stop()
	if w.ctx.Err() != nil {
		w.leave() // paused, cancelled, lease lost or shutdown: the step is interrupted
		return false
	}
	s = finished(s, res, err)
	if timedOutNow {
		s.ErrorCode, s.Error = gathering.ETIMEOUT, "The task ran out of time during this step."
	}
	if !w.record(s, res) {
		return false
	}
	switch result, done := Completed(res.Content); {
	case timedOutNow:
		w.finish(timedOut(w.task))
	case err != nil:
		w.finish(store.TaskEnd{Status: store.TaskFailed, ErrorCode: gathering.ErrorCode(err),
			Error: fmt.Sprintf("Step %d failed: %s", n, gathering.ErrorMessage(err))})
	case done:
		w.finish(store.TaskEnd{Status: store.TaskCompleted, Result: result})
	default:
		return true
	}
	return false
}

// finished is step s ended with the turn's result or error.
func finished(s store.TaskStep, res agent.ChatResult, err error) store.TaskStep {
	s.FinishedAt, s.Content, s.Status = time.Now(), res.Content, store.StepCompleted
	s.InputTokens, s.OutputTokens, s.Cost = res.Usage.InputTokens, res.Usage.OutputTokens, res.Cost
	if len(res.ToolCalls) > 0 {
		s.ToolCalls, _ = json.Marshal(res.ToolCalls)
		s.ToolResults, _ = json.Marshal(res.ToolResults)
	}
	if err != nil {
		s.Status, s.ErrorCode, s.Error = store.StepFailed, gathering.ErrorCode(err), gathering.ErrorMessage(err)
	}
	return s
}

// record stores a finished step and what it adds to the task, and
// announces it; false when the lease no longer holds.
func (w *worker) record(s store.TaskStep, res agent.ChatResult) bool {
	p := store.TaskProgress{SessionID: res.SessionID, UsedMS: s.FinishedAt.Sub(s.StartedAt).Milliseconds(),
		Checkpoint: s.Status == store.StepCompleted && (s.Step%w.task.CheckpointInterval == 0 || w.stopping())}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), writeTimeout)
	defer cancel()
	if err := w.r.db.TaskStepFinish(ctx, w.lease, s, p); err != nil {
		w.lost("recording a step", err)
		return false
	}
	w.task.UsedMS += p.UsedMS
	w.task.SessionID = cmp.Or(w.task.SessionID, res.SessionID)
	w.r.publish(ctx, "step."+s.Status, w.task, map[string]any{"step": s.Step, "tool_calls": len(res.ToolCalls),
		"input_tokens": s.InputTokens, "output_tokens": s.OutputTokens, "error": s.Error})
	return true
}

// finish ends the task and announces its end.
func (w *worker) finish(end store.TaskEnd) {
	end.At = time.Now()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), writeTimeout)
	defer cancel()
	t, err := w.r.db.TaskFinish(ctx, w.lease, end)
	if err != nil {
		w.lost("finishing the task", err)
		return
	}
	w.r.publish(ctx, string(t.Status), t, map[string]any{"result": t.Result, "error": t.Error})
}

// leave stops working on the task: at shutdown it releases the task for
// another instance; after a pause, a cancel or a lost lease there is
// nothing to record, the store has done it.
func (w *worker) leave() {
	if !w.stopping() && !errors.Is(context.Cause(w.ctx), errShutdown) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), writeTimeout)
	defer cancel()
	if err := w.r.db.TaskRelease(ctx, w.lease, time.Now()); err != nil {
		w.r.opts.Logger.Warn("releasing a background task failed", "task_id", w.task.ID, "err", err)
	}
}

// lost logs a refused write: expected when the task was paused, cancelled
// or taken over meanwhile.
func (w *worker) lost(what string, err error) {
	level := w.r.opts.Logger.Warn
	if gathering.ErrorCode(err) == gathering.ECONFLICT {
		level = w.r.opts.Logger.Info
	}
	level(what+" of a background task was refused", "task_id", w.task.ID, "err", err)
}

// timedOut is the end of a task whose time is up.
func timedOut(t store.BackgroundTask) store.TaskEnd {
	return store.TaskEnd{Status: store.TaskTimedOut, ErrorCode: gathering.ETIMEOUT,
		Error: fmt.Sprintf("The task did not finish within %d s of running time.", t.TimeoutSec)}
}

// prompt is the message that asks the agent for step n.
func prompt(t store.BackgroundTask, n int) string {
	return fmt.Sprintf("You are working on a background task on your own; no one answers you until it ends.\n\n"+
		"Goal: %s\n\n"+
		"This is step %d of at most %d. In each step, plan what to do next, act with your tools, and observe "+
		"the results. When the goal is reached, answer with %q on the first line and the final result after "+
		"it. Otherwise, end with what you did and what comes next.", t.Goal, n, t.MaxSteps, DoneMarker)
}

// Completed reports whether an answer reports the goal reached (it begins
// with DoneMarker, in any case), and returns the result that follows.
func Completed(content string) (string, bool) {
	s := strings.TrimSpace(content)
	if len(s) < len(DoneMarker) || !strings.EqualFold(s[:len(DoneMarker)], DoneMarker) {
		return "", false
	}
	return strings.TrimSpace(strings.TrimLeft(s[len(DoneMarker):], ":.-!")), true
}
