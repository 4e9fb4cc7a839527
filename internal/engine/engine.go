package engine

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/lease"
	"github.com/gathering/gathering/internal/startstop"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// Defaults used for zero fields of Options.
const (
	DefaultLease            = 30 * time.Second
	DefaultPoll             = time.Second
	DefaultMaxRuns          = 32
	DefaultBreakerThreshold = 5
	DefaultBreakerCoolDown  = 60 * time.Second
)

// Options tune an Engine.
type Options struct {
	// Instance names this process in leases (the bus's instance id).
	Instance string
	// Lease is how long a claimed run stays this instance's without a
	// heartbeat; another instance reclaims it after that.
	Lease time.Duration
	// Poll is how often the engine looks for runs that need an owner,
	// besides being woken when one is submitted or retried.
	Poll time.Duration
	// MaxRuns caps the runs this instance drives at once.
	MaxRuns int
	// BreakerThreshold is how many consecutive exhausted failures open a
	// target's breaker; BreakerCoolDown how long it then stays open.
	BreakerThreshold int
	BreakerCoolDown  time.Duration
	// Now is the breakers' clock, and Sleep paces retries and delay
	// nodes: it waits d or until ctx ends and returns ctx's cause then.
	// Tests replace them with fake time. Leases, records and timeouts use
	// the wall clock, which instances share.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Exclusive says this instance is the only one on its database
	// (SQLite): at start it resumes the runs a previous process left
	// running at once, instead of waiting for their leases to end.
	Exclusive bool
	// Jitter returns numbers in [0, 1) that spread retry delays.
	Jitter func() float64
	Logger *slog.Logger
}

// withDefaults returns o with its zero fields set.
func (o Options) withDefaults() Options {
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.MaxRuns <= 0 {
		o.MaxRuns = DefaultMaxRuns
	}
	if o.BreakerThreshold <= 0 {
		o.BreakerThreshold = DefaultBreakerThreshold
	}
	if o.BreakerCoolDown <= 0 {
		o.BreakerCoolDown = DefaultBreakerCoolDown
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Why a driver's context ends.
var (
	errCancelled = errors.New("the run was cancelled")
	errShutdown  = errors.New("the server is stopping")
	errLeaseLost = errors.New("the run's lease was taken over")
	errRunFailed = errors.New("another node failed the run")
)

// Engine executes the pipeline runs of one instance. It is a
// startstop.Service: Start begins claiming runs, Stop lets running nodes
// finish until its context ends and releases the runs it drives.
type Engine struct {
	db       store.Store
	tools    *tool.Executor
	chat     agent.Chatter
	bus      *event.Bus
	opts     Options
	breakers *breakers

	wake    chan struct{} // a run may need an owner
	loop    startstop.Loop
	drivers *lease.Set[*driver]
}

// New returns an engine over db, running tools through tools and agent
// turns through chat, publishing on bus (nil: no events, and no other
// instance hears of cancels and approvals).
func New(db store.Store, tools *tool.Executor, chat agent.Chatter, bus *event.Bus, opts Options) *Engine {
	opts = opts.withDefaults()
	e := &Engine{
		db: db, tools: tools, chat: chat, bus: bus, opts: opts,
		breakers: newBreakers(opts.BreakerThreshold, opts.BreakerCoolDown, opts.Now),
		wake:     make(chan struct{}, 1),
	}
	e.drivers = lease.New[*driver](opts.MaxRuns, e.signal) // an ended run makes room for another
	return e
}

// Breakers returns the state of every breaker, by target.
func (e *Engine) Breakers() []BreakerState { return e.breakers.states() }

// Start begins claiming and driving runs, and listening for cancels and
// approvals addressed to them.
func (e *Engine) Start(ctx context.Context) error {
	if e.opts.Exclusive {
		if err := e.releaseAll(ctx); err != nil {
			return err
		}
	}
	return event.Listen(ctx, e.bus, []string{controlType}, &e.loop, e.maintain)
}

// releaseAll releases the lease of every unfinished run, so that the
// first claims take them at once.
func (e *Engine) releaseAll(ctx context.Context) error {
	const pageSize = 100
	for _, status := range []store.RunStatus{store.RunRunning, store.RunWaitingApproval} {
		for offset := 0; ; offset += pageSize {
			runs, _, err := e.db.RunList(ctx, store.RunFilter{Status: status}, store.Page{Limit: pageSize, Offset: offset})
			if err != nil {
				return err
			}
			for _, run := range runs {
				if err := e.db.RunRelease(ctx, store.LeaseOf(run), time.Now()); err != nil {
					return err
				}
			}
			if len(runs) < pageSize {
				break
			}
		}
	}
	return nil
}

// maintain is the engine's loop: it claims runs when woken or every Poll,
// renews the leases of the runs it drives, and applies control messages.
func (e *Engine) maintain(ctx context.Context, frames <-chan event.Frame) {
	poll := time.NewTicker(e.opts.Poll)
	defer poll.Stop()
	beat := time.NewTicker(e.opts.Lease / 3)
	defer beat.Stop()
	e.claim(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
			e.claim(ctx)
		case <-poll.C:
			e.claim(ctx)
		case <-beat.C:
			e.heartbeat(ctx)
		case f, ok := <-frames:
			if !ok {
				frames = nil
				continue
			}
			e.takeControl(f)
		}
	}
}

// signal wakes the loop to claim runs.
func (e *Engine) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// claim takes runs that need an owner while this instance has room.
func (e *Engine) claim(ctx context.Context) {
	err := lease.Fill(ctx, e.drivers, func(ctx context.Context) (store.PipelineRun, error) {
		now := time.Now()
		return e.db.RunClaim(ctx, e.opts.Instance, now, now.Add(e.opts.Lease))
	}, e.drive)
	if err != nil {
		e.opts.Logger.Warn("claiming a pipeline run failed", "err", err)
	}
}

// drive starts the goroutine that executes a claimed run; a stopping
// engine releases it for another instance instead.
func (e *Engine) drive(run store.PipelineRun) {
	d := newDriver(e, run)
	if !e.drivers.Go(d.lease, d, d.cancel, d.drive) {
		d.release()
	}
}

// heartbeat renews the leases of the runs this instance drives and stops
// the drivers whose lease no longer holds.
func (e *Engine) heartbeat(ctx context.Context) {
	err := e.drivers.Renew(ctx, func(ctx context.Context, leases []store.Lease) ([]string, error) {
		return e.db.RunHeartbeat(ctx, leases, time.Now().Add(e.opts.Lease))
	}, errLeaseLost)
	if err != nil {
		e.opts.Logger.Warn("renewing pipeline run leases failed", "err", err)
	}
}

// Stop stops claiming runs, lets the nodes running now finish until ctx
// ends, then cancels them; each driver releases its run's lease so that
// another instance (or the next start) resumes it at once.
func (e *Engine) Stop(ctx context.Context) error {
	loopErr := e.loop.Stop(ctx)
	e.drivers.Stop(ctx, errShutdown)
	return loopErr
}
