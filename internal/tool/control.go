package tool

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// controlType is the event that carries a cancel, confirm or deny to the
// instance that owns an execution.
const controlType = "tool.execution.control"

// control is the data of a control event.
type control struct {
	ID     string `json:"id"`
	Action string `json:"action"` // cancel, confirm, deny
	By     int64  `json:"by,omitempty"`
}

// Cancel stops an execution that has not finished: a running one's context
// is cancelled; a pending or unconfirmed one never runs. When this process
// owns it, Cancel waits (up to ctx) until the outcome is recorded and returns
// it. When another instance owns it, the request goes to that instance over
// the event bus and the execution is returned as recorded. A finished
// execution is ECONFLICT.
func (x *Executor) Cancel(ctx context.Context, id string) (store.ToolExecution, error) {
	return x.control(ctx, control{ID: id, Action: "cancel"}, nil)
}

// Decide confirms (approve) or denies an execution awaiting confirmation,
// on behalf of user userID whose caller is by. Only a user may decide, with
// a role of at least member and at least what the tool requires
// (EFORBIDDEN). An execution not awaiting confirmation is ECONFLICT.
func (x *Executor) Decide(ctx context.Context, id string, by Caller, userID int64, approve bool) (store.ToolExecution, error) {
	c := control{ID: id, Action: "deny", By: userID}
	if approve {
		c.Action = "confirm"
	}
	return x.control(ctx, c, func(e store.ToolExecution) error {
		t, ok := x.reg.Get(e.Tool)
		if by.IsAgent() || !ok || !by.Role.AtLeast(gathering.RoleMember) || !by.Role.AtLeast(requiredRole(t.Permissions)) {
			return gathering.Errorf(gathering.EFORBIDDEN, "You may not confirm or deny calls of %q.", e.Tool)
		}
		if e.Status != store.ToolAwaitingConfirmation {
			return gathering.Errorf(gathering.ECONFLICT, "The execution is %s, not awaiting confirmation.", e.Status)
		}
		return nil
	})
}

// control applies c after check, locally or through the bus.
func (x *Executor) control(ctx context.Context, c control, check func(store.ToolExecution) error) (store.ToolExecution, error) {
	e, err := x.Get(ctx, c.ID)
	if err != nil {
		return e, err
	}
	if check != nil {
		if err := check(e); err != nil {
			return e, err
		}
	}
	if e.Status.Final() {
		return e, gathering.Errorf(gathering.ECONFLICT, "The execution has already finished (%s).", e.Status)
	}
	lr, local := x.lookup(c.ID)
	if !local {
		return e, x.forward(ctx, e, c)
	}
	wait := x.apply(lr, c)
	select {
	case <-wait:
	case <-ctx.Done():
	}
	return x.Get(context.WithoutCancel(ctx), c.ID)
}

// apply acts on a run this process owns and returns a channel closed once
// the action has taken effect.
func (x *Executor) apply(lr *liveRun, c control) <-chan struct{} {
	switch c.Action {
	case "confirm":
		select {
		case lr.approve <- c.By:
		default: // already decided
		}
		return lr.moved
	case "deny":
		lr.cancel(errDenied)
	default:
		lr.cancel(errCancelled)
	}
	return lr.done
}

// forward sends c to the instance that owns e.
func (x *Executor) forward(ctx context.Context, e store.ToolExecution, c control) error {
	if x.bus == nil {
		return gathering.Errorf(gathering.EUNAVAILABLE, "The execution runs on another instance that cannot be reached.")
	}
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = x.bus.Publish(ctx, event.Event{Type: controlType, Topics: topics(e), Data: data})
	return err
}

// Start marks the executions abandoned by a previous process interrupted
// and starts the loop that beats the heartbeat of the runs this process
// owns, interrupts runs whose owner stopped beating, and takes control
// requests from other instances.
func (x *Executor) Start(ctx context.Context) error {
	staleBefore := x.now().Add(-x.opts.Lease)
	if x.opts.Exclusive {
		staleBefore = x.now().Add(time.Millisecond)
	}
	if err := x.interrupt(ctx, staleBefore); err != nil {
		return err
	}
	return event.Listen(ctx, x.bus, []string{controlType}, &x.loop, x.maintain)
}

// maintain is the executor's background loop.
func (x *Executor) maintain(ctx context.Context, frames <-chan event.Frame) {
	tick := time.NewTicker(x.opts.Lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			x.beat(ctx)
		case f, ok := <-frames:
			if !ok {
				frames = nil
				continue
			}
			x.takeControl(f)
		}
	}
}

// beat renews the lease of the runs this process owns and interrupts those
// whose owner stopped renewing.
func (x *Executor) beat(ctx context.Context) {
	now := x.now()
	x.mu.Lock()
	ids := make([]string, 0, len(x.live))
	for id := range x.live {
		ids = append(ids, id)
	}
	x.mu.Unlock()
	if len(ids) > 0 {
		if err := x.rec.ToolExecutionHeartbeat(ctx, ids, now); err != nil {
			x.opts.Logger.Warn("tool execution heartbeat failed", "err", err)
		}
	}
	if err := x.interrupt(ctx, now.Add(-x.opts.Lease)); err != nil {
		x.opts.Logger.Warn("interrupting abandoned tool executions failed", "err", err)
	}
}

// interrupt marks executions abandoned before staleBefore and announces them.
func (x *Executor) interrupt(ctx context.Context, staleBefore time.Time) error {
	ids, err := x.rec.ToolExecutionInterrupt(ctx, staleBefore, x.now())
	for _, id := range ids {
		if e, err := x.rec.ToolExecutionGet(ctx, id); err == nil {
			x.publish(ctx, e)
		}
	}
	return err
}

// takeControl applies a control event to a run this process owns.
func (x *Executor) takeControl(f event.Frame) {
	var c control
	if f.Kind != event.KindEvent || json.Unmarshal(f.Event.Data, &c) != nil {
		return
	}
	if lr, ok := x.lookup(c.ID); ok {
		x.apply(lr, c)
	}
}

// Stop refuses new calls, ends the runs waiting for a confirmation, lets
// running ones finish until ctx ends, then cancels them; every one of them
// is recorded (as interrupted when it did not finish) before Stop returns.
func (x *Executor) Stop(ctx context.Context) error {
	x.mu.Lock()
	x.closed = true
	for _, lr := range x.live {
		if lr.e.Status == store.ToolAwaitingConfirmation || lr.e.Status == store.ToolPending {
			lr.cancel(errShutdown)
		}
	}
	x.mu.Unlock()
	drained := make(chan struct{})
	go func() { x.runs.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-ctx.Done():
		x.stopRuns(errShutdown)
		select {
		case <-drained:
		case <-time.After(recordTimeout):
			x.opts.Logger.Error("tool runs ignored their cancellation at shutdown")
		}
	}
	x.stopRuns(errShutdown)
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	return x.loop.Stop(lctx)
}
