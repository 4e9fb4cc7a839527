package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/engine"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/lease"
	"github.com/gathering/gathering/internal/startstop"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// Defaults used for zero fields of Options.
const (
	DefaultLease      = 30 * time.Second
	DefaultMaxRunning = 16
	DefaultClaimBatch = 100
	DefaultTimeout    = time.Hour
)

// Options tune a Scheduler.
type Options struct {
	// Instance names this process in leases.
	Instance string
	// Lease is how long a run stays this instance's without a heartbeat;
	// another instance recovers it after that.
	Lease time.Duration
	// MaxRunning caps the runs this instance executes at once.
	MaxRunning int
	// ClaimBatch caps the due actions one claim takes.
	ClaimBatch int
	Logger     *slog.Logger
}

// withDefaults returns o with its zero fields set.
func (o Options) withDefaults() Options {
	o.Lease = cmpDuration(o.Lease, DefaultLease)
	o.MaxRunning = cmpPositive(o.MaxRunning, DefaultMaxRunning)
	o.ClaimBatch = cmpPositive(o.ClaimBatch, DefaultClaimBatch)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// cmpDuration returns d, or fallback when d is not positive.
func cmpDuration(d, fallback time.Duration) time.Duration {
	if d <= 0 {
		return fallback
	}
	return d
}

// errShutdown ends the runs still executing when Stop's deadline passes.
var errShutdown = errors.New("the server is stopping")

// changedType is the event that tells every instance's scheduler that an
// action changed (created, updated, paused, resumed, deleted, triggered),
// so it recomputes when to wake.
const changedType = "scheduled_action.changed"

// Scheduler fires scheduled actions: it sleeps until the earliest due
// occurrence (or until an action changes, on any instance), claims due
// occurrences exactly once across instances, and executes them under
// leases. It is a startstop.Service.
type Scheduler struct {
	db        store.Store
	pipelines *engine.Engine
	tasks     *background.Runner
	tools     *tool.Executor
	bus       *event.Bus
	opts      Options

	wake   chan struct{}
	loop   startstop.Loop
	events startstop.Loop // the event listener, which fires event actions
	runs   *lease.Set[struct{}]
}

// New returns a scheduler over db that starts pipeline runs on pipelines
// and background tasks on tasks, and calls tools through tools, announcing
// changes on bus (nil: this instance alone hears of them).
func New(db store.Store, pipelines *engine.Engine, tasks *background.Runner, tools *tool.Executor, bus *event.Bus, opts Options) *Scheduler {
	s := &Scheduler{db: db, pipelines: pipelines, tasks: tasks, tools: tools, bus: bus, opts: opts.withDefaults(), wake: make(chan struct{}, 1)}
	s.runs = lease.New[struct{}](s.opts.MaxRunning, s.signal) // an ended run makes room for another
	return s
}

// Start starts the scheduler's loop and, with a bus, its event listener,
// which hears every event.
func (s *Scheduler) Start(ctx context.Context) error {
	if err := event.Listen(ctx, s.bus, []string{changedType}, &s.loop, s.run); err != nil || s.bus == nil {
		return err
	}
	if err := event.Listen(ctx, s.bus, nil, &s.events, s.listen); err != nil {
		return errors.Join(err, s.loop.Stop(ctx))
	}
	return nil
}

// run is the loop: work, then sleep until the next due time, a change, or
// the heartbeat (a third of the lease, which also bounds how late a dead
// instance's runs are recovered).
func (s *Scheduler) run(ctx context.Context, frames <-chan event.Frame) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	beat := time.NewTicker(s.opts.Lease / 3)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.wake:
		case <-beat.C:
			s.heartbeat(ctx)
		case _, ok := <-frames:
			if !ok {
				frames = nil
			}
		}
		s.work(ctx)
		timer.Reset(s.sleep(ctx))
	}
}

// signal wakes the loop.
func (s *Scheduler) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sleep is how long the loop may sleep: until the earliest due time, at
// most a third of the lease. Without room it sleeps that long: work could
// take nothing anyway, and a run that ends wakes the loop.
func (s *Scheduler) sleep(ctx context.Context) time.Duration {
	longest := s.opts.Lease / 3
	if !s.room() {
		return longest
	}
	next, err := s.db.ActionNextDue(ctx)
	if err != nil {
		return longest
	}
	return min(max(time.Until(next), 0), longest)
}

// work claims the due occurrences, then the runs waiting for an owner,
// while this instance has room.
func (s *Scheduler) work(ctx context.Context) {
	if !s.room() {
		return
	}
	now, planned := time.Now(), 0 // runs planned to start here, not yet executing
	runs, err := s.db.ActionClaimDue(ctx, now, s.opts.ClaimBatch, s.opts.Instance, now.Add(s.opts.Lease),
		func(a store.ScheduledAction, unfinished int) store.ClaimPlan {
			p := plan(a, unfinished, now, s.runs.Room(planned+1))
			for _, r := range p.Runs {
				if r.Status == store.ScheduleRunRunning {
					planned++
				}
			}
			return p
		})
	if err != nil && ctx.Err() == nil {
		s.opts.Logger.Warn("claiming due scheduled actions failed", "err", err)
	}
	for _, r := range runs {
		if r.Status == store.ScheduleRunRunning {
			s.execute(r)
		}
	}
	err = lease.Fill(ctx, s.runs, func(ctx context.Context) (store.ScheduleRun, error) {
		now := time.Now()
		return s.db.ScheduleRunClaim(ctx, s.opts.Instance, now, now.Add(s.opts.Lease))
	}, s.execute)
	if err != nil {
		s.opts.Logger.Warn("claiming a schedule run failed", "err", err)
	}
}

// room reports whether this instance may execute one more run.
func (s *Scheduler) room() bool { return s.runs.Room(1) }

// heartbeat renews the leases of the runs this instance executes and
// cancels those it lost.
func (s *Scheduler) heartbeat(ctx context.Context) {
	err := s.runs.Renew(ctx, func(ctx context.Context, leases []store.Lease) ([]string, error) {
		return s.db.ScheduleRunHeartbeat(ctx, leases, time.Now().Add(s.opts.Lease))
	}, errLeaseLost)
	if err != nil {
		s.opts.Logger.Warn("renewing schedule run leases failed", "err", err)
	}
}

// errLeaseLost ends a run whose lease another instance took.
var errLeaseLost = errors.New("the run's lease was taken over")

// Stop stops firing event actions and claiming, lets the runs executing
// finish until ctx ends, then cancels them and releases their leases so
// another instance takes them.
func (s *Scheduler) Stop(ctx context.Context) error {
	loopErr := errors.Join(s.events.Stop(ctx), s.loop.Stop(ctx))
	s.runs.Stop(ctx, errShutdown)
	return loopErr
}

// announce tells every instance's scheduler that an action changed.
func (s *Scheduler) announce(ctx context.Context, id int64) {
	s.signal()
	if s.bus == nil {
		return
	}
	if _, err := s.bus.Publish(ctx, event.Event{Type: changedType, Topics: []string{actionTopic(id)}}); err != nil {
		s.opts.Logger.Warn("announcing a scheduled action change failed", "action_id", id, "err", err)
	}
}
