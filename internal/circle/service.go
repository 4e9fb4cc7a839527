package circle

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/gathering/gathering/internal/activity"
	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/startstop"
	"github.com/gathering/gathering/internal/store"
)

// DefaultSweep is how often a Service catches up when Options.Sweep is 0.
const DefaultSweep = 30 * time.Second

// writeTimeout bounds the work the service does for one event or sweep
// step.
const writeTimeout = 30 * time.Second

// Options tune a Service.
type Options struct {
	// Sweep is how often the service catches up on what the events did not
	// tell it: background tasks that ended while no instance listened,
	// tasks waiting to start, pending tasks to route. 0 means DefaultSweep.
	Sweep  time.Duration
	Logger *slog.Logger
}

// Service owns circles, their members, tasks and conflicts. It is a
// startstop.Service: between Start and Stop it listens for the end of
// background tasks and for project activity.
type Service struct {
	db    store.Store
	tasks *background.Runner
	bus   *event.Bus
	opts  Options
	log   *slog.Logger
	loop  startstop.Loop
	kick  chan struct{} // a background task ended: tasks waiting may start
	// routing makes this instance route one circle's tasks at a time, each
	// router seeing the workloads the one before left; instances may still
	// route at once, which the store keeps within the circles' limits.
	routing sync.Mutex
}

// New returns a Service over db whose members work through tasks (nil: no
// work starts, tasks wait) and whose events go to bus (nil: none).
func New(db store.Store, tasks *background.Runner, bus *event.Bus, opts Options) *Service {
	if opts.Sweep <= 0 {
		opts.Sweep = DefaultSweep
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, tasks: tasks, bus: bus, opts: opts, log: opts.Logger, kick: make(chan struct{}, 1)}
}

// heard are the events the service acts on.
var heard = []string{"background_task.completed", "background_task.failed", "background_task.timed_out",
	"background_task.cancelled", activity.Type}

// Start listens for events and sweeps every Options.Sweep until Stop; it
// catches up (a first sweep, once it listens) before it returns.
func (s *Service) Start(ctx context.Context) error {
	if err := event.Listen(ctx, s.bus, heard, &s.loop, s.run); err != nil {
		return err
	}
	s.sweep(ctx)
	return nil
}

// Stop stops listening, waiting for the event in hand until ctx ends.
func (s *Service) Stop(ctx context.Context) error { return s.loop.Stop(ctx) }

// run is the service's loop.
func (s *Service) run(ctx context.Context, frames <-chan event.Frame) {
	sweep := time.NewTicker(s.opts.Sweep)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			s.sweep(ctx)
		case <-s.kick:
			s.startWaiting(ctx)
		case f, ok := <-frames:
			if !ok {
				frames = nil
				continue
			}
			switch f.Kind {
			case event.KindEvent:
				s.hear(ctx, f.Event)
			case event.KindLagged, event.KindReset:
				s.sweep(ctx) // events went missing: catch up now
			}
		}
	}
}

// hear acts on one event.
func (s *Service) hear(ctx context.Context, e event.Event) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if e.Type == activity.Type {
		s.activity(ctx, e.Data)
		return
	}
	var ref struct {
		TaskID string `json:"task_id"`
	}
	if json.Unmarshal(e.Data, &ref) != nil || ref.TaskID == "" {
		return
	}
	s.backgroundEnded(ctx, ref.TaskID)
	s.signal() // a background slot freed: tasks waiting for one may start
}

// signal asks the loop to start the tasks that wait.
func (s *Service) signal() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// sweep catches up: background tasks that ended unheard, then tasks that
// wait to start and pending tasks to route, circle by circle.
func (s *Service) sweep(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	s.reconcile(ctx)
	const pageSize = 100
	for offset := 0; ctx.Err() == nil; offset += pageSize {
		circles, _, err := s.db.CircleList(ctx, store.CircleFilter{}, store.Page{Limit: pageSize, Offset: offset})
		if err != nil {
			s.log.Warn("listing circles to sweep failed", "err", err)
			return
		}
		for _, c := range circles {
			s.startCircleWork(ctx, c)
			if c.AutoRoute {
				s.route(ctx, c.Name)
			}
		}
		if len(circles) < pageSize {
			return
		}
	}
}

// eachTask calls fn with every task that matches f, in id order, a page
// at a time; fn may change tasks out of the filter.
func (s *Service) eachTask(ctx context.Context, f store.CircleTaskFilter, fn func(store.CircleTask)) {
	const pageSize = 100
	for ctx.Err() == nil {
		tasks, _, err := s.db.CircleTaskList(ctx, f, store.Page{Limit: pageSize})
		if err != nil {
			s.log.Warn("listing circle tasks failed", "err", err)
			return
		}
		for _, t := range tasks {
			fn(t)
		}
		if len(tasks) < pageSize {
			return
		}
		f.AfterID = tasks[len(tasks)-1].ID
	}
}
