package tool

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/startstop"
	"github.com/gathering/gathering/internal/store"
)

// Recorder is where an Executor records executions: the tool part of a
// store.Store.
type Recorder interface {
	ToolExecutionCreate(ctx context.Context, e store.ToolExecution) error
	ToolExecutionUpdate(ctx context.Context, e store.ToolExecution) error
	ToolExecutionGet(ctx context.Context, id string) (store.ToolExecution, error)
	ToolExecutionHeartbeat(ctx context.Context, ids []string, at time.Time) error
	ToolExecutionInterrupt(ctx context.Context, staleBefore, at time.Time) ([]string, error)
}

// ExecutorOptions tunes an Executor; zero fields take defaults.
type ExecutorOptions struct {
	// Instance names this process among those sharing the database.
	Instance string
	// ConfirmTimeout is how long a dangerous call waits for a decision
	// (default 15 minutes).
	ConfirmTimeout time.Duration
	// Concurrency is the default per-tool limit of simultaneous runs
	// (default 8).
	Concurrency int
	// Lease is how long an execution survives without a heartbeat from
	// its owner before any instance marks it interrupted (default 30 s);
	// the owner beats every Lease/3.
	Lease time.Duration
	// Exclusive says that no other process uses the database (SQLite): at
	// Start every unfinished execution is interrupted at once instead of
	// after its lease.
	Exclusive bool
	// Logger receives background failures; nil discards them.
	Logger *slog.Logger
}

// The defaults of ExecutorOptions.
const (
	DefaultConfirmTimeout = 15 * time.Minute
	DefaultConcurrency    = 8
	DefaultLease          = 30 * time.Second
)

// recordTimeout bounds a write that must happen even when the caller left.
const recordTimeout = 10 * time.Second

// Causes of a background run's cancellation.
var (
	errCancelled = errors.New("cancelled by a user")
	errDenied    = errors.New("denied by a user")
	errShutdown  = errors.New("the server is stopping")
)

// Request is one tool call as an Executor takes it.
type Request struct {
	Tool   string
	Input  json.RawMessage
	Caller Caller
	// UserID is the user who calls, or on whose behalf an agent calls.
	UserID int64
	// AgentID is the calling agent; 0 for a user.
	AgentID int64
	// Background asks not to wait for the outcome (async tools and
	// dangerous tools never make the caller wait).
	Background bool
}

// Executor is the recorded execution path of tools: every call made by a
// person, an agent, a pipeline or a schedule goes through Execute. It runs
// calls in the caller's goroutine or in the background, keeps dangerous calls
// waiting for a confirmation, caps concurrency per tool, publishes
// tool.execution.* events and records every execution. It is a
// startstop.Service; its background loop beats the heartbeat of the runs it
// owns and marks abandoned ones interrupted.
type Executor struct {
	reg  *Registry
	rec  Recorder
	bus  *event.Bus // nil: no events
	opts ExecutorOptions
	now  func() time.Time

	base     context.Context // parent of background runs
	stopRuns context.CancelCauseFunc
	runs     sync.WaitGroup
	loop     startstop.Loop

	mu     sync.Mutex
	closed bool
	live   map[string]*liveRun
	slots  map[string]chan struct{}
}

// NewExecutor returns an Executor over reg recording in rec and publishing
// on bus (which may be nil).
func NewExecutor(reg *Registry, rec Recorder, bus *event.Bus, opts ExecutorOptions) *Executor {
	if opts.ConfirmTimeout <= 0 {
		opts.ConfirmTimeout = DefaultConfirmTimeout
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	base, stop := context.WithCancelCause(context.Background())
	return &Executor{
		reg: reg, rec: rec, bus: bus, opts: opts, now: time.Now,
		base: base, stopRuns: stop,
		live: map[string]*liveRun{}, slots: map[string]chan struct{}{},
	}
}

// Registry returns the registry the executor runs tools from.
func (x *Executor) Registry() *Registry { return x.reg }

// Execute admits the call (resolve, permission, validation, availability:
// a refusal is returned as an error and nothing is recorded), then:
//   - for a dangerous tool, records it awaiting_confirmation and returns;
//   - for an async tool or a background request, records it pending, runs
//     it in the background and returns;
//   - otherwise runs it now, records the outcome and returns it; when the
//     run failed, err is the run's own error (with its field details) and
//     the execution carries its code and message.
func (x *Executor) Execute(ctx context.Context, req Request) (store.ToolExecution, error) {
	t, err := x.reg.admit(req.Caller, req.Tool, req.Input)
	if err != nil {
		return store.ToolExecution{}, err
	}
	now := x.now()
	e := store.ToolExecution{
		ID: event.NewID(now), Tool: t.Name, Input: Redact(req.Input),
		UserID: req.UserID, AgentID: req.AgentID, Owner: x.opts.Instance,
		Background: req.Background || t.Async || t.Dangerous,
		CreatedAt:  now, HeartbeatAt: now,
	}
	if !e.Background {
		return x.runNow(ctx, t, req.Input, e)
	}
	e.Status = store.ToolPending
	if t.Dangerous {
		e.Status, e.ExpiresAt = store.ToolAwaitingConfirmation, now.Add(x.opts.ConfirmTimeout)
	}
	return x.startBackground(ctx, t, req.Input, e)
}

// runNow runs a call in the caller's goroutine and records its outcome
// once. A caller that goes away cancels the run; the outcome is still
// recorded.
func (x *Executor) runNow(ctx context.Context, t *Registered, input json.RawMessage, e store.ToolExecution) (store.ToolExecution, error) {
	if err := x.admitRun(false); err != nil {
		return e, err
	}
	release, err := x.acquire(ctx, t)
	if err != nil {
		return e, err
	}
	e.StartedAt = x.now()
	out, err := t.invoke(withInvoker(withProgress(ctx, x.progressReporter(e)), e), input)
	release()
	x.conclude(&e, out, err, context.Cause(ctx))
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := x.rec.ToolExecutionCreate(rctx, e); err != nil {
		return e, err
	}
	x.publish(rctx, e)
	return e, err
}

// admitRun refuses new runs once the executor is stopping. A background
// run is counted under the same lock, so Stop waits for it.
func (x *Executor) admitRun(background bool) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return gathering.Errorf(gathering.EUNAVAILABLE, "The server is stopping; the tool was not run.")
	}
	if background {
		x.runs.Add(1)
	}
	return nil
}

// acquire takes one of the tool's run slots, waiting while they are all
// taken, and returns the function that gives it back.
func (x *Executor) acquire(ctx context.Context, t *Registered) (func(), error) {
	x.mu.Lock()
	slots, ok := x.slots[t.Name]
	if !ok {
		slots = make(chan struct{}, cmpPositive(t.Concurrency, x.opts.Concurrency))
		x.slots[t.Name] = slots
	}
	x.mu.Unlock()
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func cmpPositive(v, fallback int) int {
	if v > 0 {
		return v
	}
	return fallback
}

// conclude sets the final status of e from the run's outcome. cause is why
// the run's context ended, if it did.
func (x *Executor) conclude(e *store.ToolExecution, out json.RawMessage, err, cause error) {
	e.FinishedAt = x.now()
	switch {
	case err == nil:
		e.Status, e.Output = store.ToolSucceeded, out
	case errors.Is(cause, errShutdown):
		e.Status, e.Reason = store.ToolFailed, "interrupted"
		e.ErrorCode, e.Error = gathering.EUNAVAILABLE, "The server stopped while the tool was running."
	case errors.Is(cause, errDenied):
		e.Status, e.Reason = store.ToolCancelled, "denied"
	case cause != nil:
		e.Status, e.Reason = store.ToolCancelled, "cancelled"
	case gathering.ErrorCode(err) == gathering.ETIMEOUT:
		e.Status, e.ErrorCode, e.Error = store.ToolTimedOut, gathering.ETIMEOUT, gathering.ErrorMessage(err)
	default:
		e.Status, e.ErrorCode, e.Error = store.ToolFailed, gathering.ErrorCode(err), gathering.ErrorMessage(err)
	}
	if e.Status == store.ToolCancelled {
		e.ErrorCode, e.Error = "", ""
	}
}
