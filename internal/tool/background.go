package tool

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// liveRun is a background execution this process owns.
type liveRun struct {
	e       store.ToolExecution // guarded by Executor.mu
	ctx     context.Context
	cancel  context.CancelCauseFunc
	approve chan int64    // the confirming user; buffered, awaiting only
	moved   chan struct{} // closed when it leaves awaiting_confirmation
	done    chan struct{} // closed when it is final and recorded
}

// startBackground records e and starts its goroutine.
func (x *Executor) startBackground(ctx context.Context, t *Registered, input json.RawMessage, e store.ToolExecution) (store.ToolExecution, error) {
	if err := x.admitRun(true); err != nil {
		return e, err
	}
	if err := x.rec.ToolExecutionCreate(ctx, e); err != nil {
		x.runs.Done()
		return e, err
	}
	rctx, cancel := context.WithCancelCause(x.base)
	if key := IdempotencyKey(ctx); key != "" {
		rctx = WithIdempotencyKey(rctx, key)
	}
	lr := &liveRun{
		e: e, ctx: rctx, cancel: cancel,
		approve: make(chan int64, 1), moved: make(chan struct{}), done: make(chan struct{}),
	}
	x.mu.Lock()
	x.live[e.ID] = lr
	if x.closed { // Stop began meanwhile: this run never starts
		cancel(errShutdown)
	}
	x.mu.Unlock()
	go x.background(t, input, lr)
	x.publish(ctx, e)
	return e, nil
}

// background takes a run from confirmation to its recorded outcome.
func (x *Executor) background(t *Registered, input json.RawMessage, lr *liveRun) {
	defer x.runs.Done()
	defer close(lr.done)
	defer lr.cancel(nil)
	if x.snapshot(lr).Status == store.ToolAwaitingConfirmation {
		if !x.awaitDecision(lr) {
			x.finish(lr, nil, context.Cause(lr.ctx))
			return
		}
	}
	release, err := x.acquire(lr.ctx, t)
	if err != nil {
		x.finish(lr, nil, err)
		return
	}
	defer release()
	x.transition(lr, func(e *store.ToolExecution) {
		e.Status, e.StartedAt = store.ToolRunning, x.now()
	})
	e := x.snapshot(lr)
	out, err := t.invoke(withInvoker(withProgress(lr.ctx, x.progressReporter(e)), e), input)
	x.finish(lr, out, err)
}

// awaitDecision waits for a confirmation, a denial, a cancellation or the
// expiry. It reports whether the call may run; when it may not, the
// execution is left ready for finish.
func (x *Executor) awaitDecision(lr *liveRun) bool {
	defer close(lr.moved)
	timer := time.NewTimer(time.Until(x.snapshot(lr).ExpiresAt))
	defer timer.Stop()
	select {
	case by := <-lr.approve:
		x.transition(lr, func(e *store.ToolExecution) { e.Status, e.DecidedBy = store.ToolPending, by })
		return true
	case <-timer.C:
		x.setFinal(lr, func(e *store.ToolExecution) {
			e.Status, e.Reason = store.ToolTimedOut, "expired"
			e.ErrorCode, e.Error = gathering.ETIMEOUT, "Nobody confirmed the call in time."
		})
	case <-lr.ctx.Done():
	}
	return false
}

// setFinal changes the in-memory execution only; finish records it.
func (x *Executor) setFinal(lr *liveRun, change func(*store.ToolExecution)) {
	x.mu.Lock()
	defer x.mu.Unlock()
	change(&lr.e)
}

// transition changes the execution, records it and publishes it.
func (x *Executor) transition(lr *liveRun, change func(*store.ToolExecution)) {
	x.mu.Lock()
	change(&lr.e)
	e := lr.e
	x.mu.Unlock()
	x.record(e)
}

// finish concludes the run unless awaitDecision already did, records the
// final execution and forgets the run.
func (x *Executor) finish(lr *liveRun, out json.RawMessage, err error) {
	x.mu.Lock()
	if !lr.e.Status.Final() {
		x.conclude(&lr.e, out, err, context.Cause(lr.ctx))
	}
	if lr.e.FinishedAt.IsZero() {
		lr.e.FinishedAt = x.now()
	}
	e := lr.e
	x.mu.Unlock()
	x.record(e)
	x.mu.Lock()
	delete(x.live, e.ID)
	x.mu.Unlock()
}

// record writes e and publishes it. A write refused because another
// instance already finished the row (it judged this one dead) is logged.
func (x *Executor) record(e store.ToolExecution) {
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	if err := x.rec.ToolExecutionUpdate(ctx, e); err != nil {
		x.opts.Logger.Warn("tool execution not recorded", "execution", e.ID, "tool", e.Tool, "status", e.Status, "err", err)
		return
	}
	x.publish(ctx, e)
}

func (x *Executor) snapshot(lr *liveRun) store.ToolExecution {
	x.mu.Lock()
	defer x.mu.Unlock()
	return lr.e
}

func (x *Executor) lookup(id string) (*liveRun, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	lr, ok := x.live[id]
	return lr, ok
}

// Get returns an execution: the live state when this process runs it, else
// the recorded one (ENOTFOUND).
func (x *Executor) Get(ctx context.Context, id string) (store.ToolExecution, error) {
	if lr, ok := x.lookup(id); ok {
		return x.snapshot(lr), nil
	}
	return x.rec.ToolExecutionGet(ctx, id)
}

// ExecuteAndWait is Execute that, for a call it runs in the background (an
// async or dangerous tool, or a background request), waits for the
// execution's end — a dangerous call waits for its confirmation — and
// returns it finished. Ending ctx cancels the execution and returns ctx's
// cause.
func (x *Executor) ExecuteAndWait(ctx context.Context, req Request) (store.ToolExecution, error) {
	e, err := x.Execute(ctx, req)
	if err != nil || e.Status.Final() {
		return e, err
	}
	if lr, ok := x.lookup(e.ID); ok {
		select {
		case <-lr.done:
		case <-ctx.Done():
			_, _ = x.Cancel(context.WithoutCancel(ctx), e.ID)
			return e, context.Cause(ctx)
		}
	}
	return x.Get(ctx, e.ID)
}
