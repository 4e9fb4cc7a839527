package background

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/lease"
	"github.com/gathering/gathering/internal/store"
)

// Defaults used for zero fields of Options.
const (
	DefaultLease      = 30 * time.Second
	DefaultMaxRunning = 5
)

// Options tune a Runner.
type Options struct {
	// Instance names this process in leases (the bus's instance id).
	Instance string
	// Lease is how long a claimed task stays this instance's without a
	// heartbeat; heartbeats, and a look for tasks that need an owner, come
	// every third of it.
	Lease time.Duration
	// MaxRunning caps the running tasks across every instance.
	MaxRunning int
	// Exclusive says this instance is the only one on its database
	// (SQLite): at start it continues the tasks a previous process left
	// running at once, instead of waiting for their leases to end.
	Exclusive bool
	Logger    *slog.Logger
}

// Why a worker's context ends.
var (
	errPaused    = errors.New("the task was paused")
	errCancelled = errors.New("the task was cancelled")
	errShutdown  = errors.New("the server is stopping")
	errLeaseLost = errors.New("the task's lease was taken over")
)

// Runner creates, pauses, resumes and cancels background tasks, and works
// on the running ones this instance claims. It is a startstop.Service.
type Runner struct {
	db   store.Store
	chat agent.Chatter
	bus  *event.Bus
	opts Options

	loop    *lease.Loop // claims tasks, renews their leases, hears pauses and cancels
	workers *lease.Set[*worker]
}

// New returns a runner over db whose agents work through chat, publishing
// on bus (nil: no events, and no other instance hears of pauses and
// cancels before its next heartbeat).
func New(db store.Store, chat agent.Chatter, bus *event.Bus, opts Options) *Runner {
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.MaxRunning <= 0 {
		opts.MaxRunning = DefaultMaxRunning
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{db: db, chat: chat, bus: bus, opts: opts}
	r.loop = lease.NewLoop(lease.LoopOptions{Lease: opts.Lease, Claim: r.claim, Renew: r.heartbeat, IDKey: "task_id", Hear: r.hear})
	r.workers = lease.New[*worker](opts.MaxRunning, r.signal) // an ended task makes room for another
	return r
}

// heard are the events that concern the runner: a task to claim, or one
// to stop working on.
var heard = []string{"background_task.created", "background_task.resumed", "background_task.paused", "background_task.cancelled"}

// Start begins claiming tasks and listening for pauses and cancels.
func (r *Runner) Start(ctx context.Context) error {
	if r.opts.Exclusive {
		if err := r.releaseAll(ctx); err != nil {
			return err
		}
	}
	return r.loop.Start(ctx, r.bus, heard)
}

// releaseAll releases every running task that has an owner, so that the
// first claims take them at once.
func (r *Runner) releaseAll(ctx context.Context) error {
	running := func(ctx context.Context, p store.Page) ([]store.BackgroundTask, int, error) {
		return r.db.TaskList(ctx, store.TaskFilter{Status: store.TaskRunning}, p)
	}
	return lease.ReleaseAll(ctx, running, store.TaskLeaseOf, r.db.TaskRelease)
}

// hear acts on a task event: wake up for a new or resumed task, stop the
// worker of a paused or cancelled one.
func (r *Runner) hear(typ, id string) {
	switch typ {
	case "background_task.created", "background_task.resumed":
		r.signal()
	case "background_task.paused":
		r.workers.Cancel(id, errPaused)
	case "background_task.cancelled":
		r.workers.Cancel(id, errCancelled)
	}
}

// signal wakes the loop to claim tasks.
func (r *Runner) signal() { r.loop.Wake() }

// claim takes tasks that need an owner while this instance has room.
func (r *Runner) claim(ctx context.Context) {
	err := lease.Fill(ctx, r.workers, func(ctx context.Context) (store.BackgroundTask, error) {
		now := time.Now()
		return r.db.TaskClaim(ctx, r.opts.Instance, now, now.Add(r.opts.Lease))
	}, r.work)
	if err != nil {
		r.opts.Logger.Warn("claiming a background task failed", "err", err)
	}
}

// work starts the goroutine that works on a claimed task; a stopping
// runner releases it for another instance instead.
func (r *Runner) work(t store.BackgroundTask) {
	ctx, cancel := context.WithCancelCause(context.Background())
	w := &worker{r: r, task: t, lease: store.TaskLeaseOf(t), ctx: ctx}
	if !r.workers.Go(w.lease, w, cancel, w.run) {
		w.leave()
	}
}

// heartbeat renews the leases of the tasks this instance works on and
// stops the workers whose lease no longer holds.
func (r *Runner) heartbeat(ctx context.Context) {
	err := r.workers.Renew(ctx, func(ctx context.Context, leases []store.Lease) ([]string, error) {
		return r.db.TaskHeartbeat(ctx, leases, time.Now().Add(r.opts.Lease))
	}, errLeaseLost)
	if err != nil {
		r.opts.Logger.Warn("renewing background task leases failed", "err", err)
	}
}

// Stop stops claiming tasks, lets the steps in flight end until ctx ends,
// then cuts them off; each worker releases its task so that another
// instance, or the next start, continues it.
func (r *Runner) Stop(ctx context.Context) error {
	loopErr := r.loop.Stop(ctx)
	r.workers.Stop(ctx, errShutdown)
	return loopErr
}

// publish announces typ about t on its topics.
func (r *Runner) publish(ctx context.Context, typ string, t store.BackgroundTask, extra map[string]any) {
	if r.bus == nil {
		return
	}
	data := map[string]any{"task_id": t.ID, "agent_id": t.AgentID, "status": t.Status}
	for k, v := range extra {
		data[k] = v
	}
	raw, _ := json.Marshal(data)
	topics := []string{"background_task:" + t.ID, "agent:" + strconv.FormatInt(t.AgentID, 10)}
	actor := "user:" + strconv.FormatInt(t.UserID, 10)
	if _, err := r.bus.Publish(context.WithoutCancel(ctx), event.Event{Type: "background_task." + typ, Topics: topics, Actor: actor, Data: raw}); err != nil {
		r.opts.Logger.Warn("publishing a background task event failed", "type", typ, "task_id", t.ID, "err", err)
	}
}
