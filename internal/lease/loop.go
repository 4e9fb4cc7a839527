package lease

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/startstop"
	"github.com/gathering/gathering/internal/store"
)

// LoopOptions say what a Loop does and how often.
type LoopOptions struct {
	// Lease is how long a claim holds without renewal; the loop renews
	// the leases held, then claims, every third of it.
	Lease time.Duration
	// Claim claims work while there is room.
	Claim func(ctx context.Context)
	// Renew renews the leases held and cuts off the work that lost its.
	Renew func(ctx context.Context)
	// IDKey names the member of an event's data that holds the id of the
	// work it is about ("task_id").
	IDKey string
	// Hear acts on each event the loop listens to: its type, and the id
	// under IDKey ("" when there is none).
	Hear func(typ, id string)
}

// Loop is the loop of a service that owns work under leases: it claims at
// once, again whenever woken, and every beat after renewing its leases,
// and hands the events it hears to Hear. Build it with NewLoop; Start
// and Stop own its goroutine.
type Loop struct {
	opts LoopOptions
	wake chan struct{} // one slot: the wakes that come while the loop is busy fold into one
	run  startstop.Loop
}

// NewLoop returns a loop that does what opts say.
func NewLoop(opts LoopOptions) *Loop {
	return &Loop{opts: opts, wake: make(chan struct{}, 1)}
}

// Wake asks the loop to claim soon; it never blocks.
func (l *Loop) Wake() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Start runs the loop in its own goroutine, listening on bus (nil: it
// hears nothing) to the events of types.
func (l *Loop) Start(ctx context.Context, bus *event.Bus, types []string) error {
	return event.Listen(ctx, bus, types, &l.run, l.maintain)
}

// Stop ends the loop and waits for it, giving up when ctx ends. The work
// it claimed runs on: stopping that is the owner's Set's business.
func (l *Loop) Stop(ctx context.Context) error { return l.run.Stop(ctx) }

// maintain is the loop itself.
func (l *Loop) maintain(ctx context.Context, frames <-chan event.Frame) {
	beat := time.NewTicker(l.opts.Lease / 3)
	defer beat.Stop()
	l.opts.Claim(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
			l.opts.Claim(ctx)
		case <-beat.C:
			l.opts.Renew(ctx)
			l.opts.Claim(ctx)
		case f, ok := <-frames:
			if !ok {
				frames = nil
				continue
			}
			l.hear(f)
		}
	}
}

// hear hands an event frame to Hear, with the id of the work it is about.
// It passes over the other frames, and the events whose data is not a JSON
// object or holds an id that is not a string.
func (l *Loop) hear(f event.Frame) {
	var data map[string]json.RawMessage
	if f.Kind != event.KindEvent || json.Unmarshal(f.Event.Data, &data) != nil {
		return
	}
	var id string
	if raw, ok := data[l.opts.IDKey]; ok && json.Unmarshal(raw, &id) != nil {
		return
	}
	l.opts.Hear(f.Event.Type, id)
}

// ReleaseAll pages through list (by pages of 100) and releases, with
// release, the lease of each piece of work that has an owner, so that the
// first claims after a restart take them at once. It stops at the first
// error and returns it.
func ReleaseAll[T any](ctx context.Context, list func(context.Context, store.Page) ([]T, int, error),
	leaseOf func(T) store.Lease, release func(context.Context, store.Lease, time.Time) error) error {
	const pageSize = 100
	for offset := 0; ; offset += pageSize {
		page, _, err := list(ctx, store.Page{Limit: pageSize, Offset: offset})
		if err != nil {
			return err
		}
		for _, w := range page {
			if l := leaseOf(w); l.Owner != "" {
				if err := release(ctx, l, time.Now()); err != nil {
					return err
				}
			}
		}
		if len(page) < pageSize {
			return nil
		}
	}
}
