package event

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gathering/gathering/internal/gathering"
)

// DefaultRingSize is the number of events the ring keeps when Config.RingSize
// is zero.
const DefaultRingSize = 10_000

// Config configures a Bus. The zero value is a working in-process bus.
type Config struct {
	Instance     string                   // this instance's id; "" → NewID-based random
	RingSize     int                      // 0 → 10,000
	BatchWindows map[string]time.Duration // event type → coalescing window (high-frequency types only; e.g. "agent.token": 50ms)
	DedupWindows map[string]time.Duration // event type → dedup window (e.g. 1s); types absent are not deduplicated unless DefaultDedup > 0
	DefaultDedup time.Duration            // 0 → no dedup for types without their own window
	Now          func() time.Time         // the clock of timestamps, ids and dedup windows; nil → time.Now
	Registerer   prometheus.Registerer    // optional: published, delivered, dropped, lost, subscribers
}

// Transport carries events to the other instances (PostgreSQL LISTEN/NOTIFY,
// built elsewhere).
type Transport interface {
	Send(ctx context.Context, e Event) error
}

// BusStats is a snapshot of a bus's counters.
type BusStats struct {
	Published    uint64 // events accepted by Publish (deduplicated ones excluded)
	Remote       uint64 // events accepted by Deliver
	Deduplicated uint64 // Publish calls absorbed by dedup
	Delivered    uint64 // frames handed to subscribers
	Dropped      uint64 // frames DropOldest subscribers dropped
	Lost         uint64 // frames Block subscribers lost
	Subscribers  int    // open subscriptions
	RingLen      int    // entries held by the ring
}

// Bus is the event bus. It is safe for concurrent use.
type Bus struct {
	instance     string
	now          func() time.Time
	batchWindows map[string]time.Duration
	dedupWindows map[string]time.Duration
	defaultDedup time.Duration

	mu        sync.Mutex // serialises ring writes (readers take no lock); guards ids, dedup and transport
	ids       idGenerator
	ring      *ring
	dedup     dedup
	transport Transport

	subsMu  sync.Mutex // guards subs writes, started and stopped
	subs    atomic.Pointer[[]*Subscription]
	started bool
	stopped atomic.Bool
	retired subStats // counters of closed subscriptions

	published, remote, deduplicated atomic.Uint64
}

// NewBus returns a bus configured by cfg.
func NewBus(cfg Config) *Bus {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	b := &Bus{
		instance:     cfg.Instance,
		now:          now,
		batchWindows: maps.Clone(cfg.BatchWindows),
		dedupWindows: maps.Clone(cfg.DedupWindows),
		defaultDedup: cfg.DefaultDedup,
		ring:         newRing(cmp.Or(max(cfg.RingSize, 0), DefaultRingSize)),
		dedup:        newDedup(),
	}
	if b.instance == "" {
		b.instance = b.ids.next(now())
	}
	b.subs.Store(new([]*Subscription))
	if cfg.Registerer != nil {
		registerMetrics(cfg.Registerer, b)
	}
	return b
}

// Instance returns this instance's id, the Origin of the events it publishes.
func (b *Bus) Instance() string { return b.instance }

// SetTransport sets where published events go to reach other instances.
// Call it before Start.
func (b *Bus) SetTransport(t Transport) {
	b.mu.Lock()
	b.transport = t
	b.mu.Unlock()
}

// Start marks the bus running. The bus has no goroutine of its own: each
// subscription owns one, started by Subscribe and ended by Close or Stop.
func (b *Bus) Start(context.Context) error {
	b.subsMu.Lock()
	defer b.subsMu.Unlock()
	if b.started || b.stopped.Load() {
		return errors.New("event bus already started")
	}
	b.started = true
	return nil
}

// Stop closes every subscription and waits for their goroutines, giving up
// when ctx ends. Afterwards Publish and Subscribe fail with EUNAVAILABLE and
// Deliver and Reset do nothing.
func (b *Bus) Stop(ctx context.Context) error {
	b.subsMu.Lock()
	b.stopped.Store(true)
	subs := *b.subs.Swap(new([]*Subscription))
	b.subsMu.Unlock()
	for _, s := range subs {
		s.signalStop()
	}
	for _, s := range subs {
		select {
		case <-s.done:
			b.retire(s)
		case <-ctx.Done():
			return fmt.Errorf("stop event bus: %w", ctx.Err())
		}
	}
	return nil
}

// errStopped is returned once the bus has stopped.
var errStopped = gathering.Errorf(gathering.EUNAVAILABLE, "The event bus is stopped.")

// Publish validates e, fills its ID, At and Origin, records it in the ring
// and wakes the subscribers that want it; it never waits for a subscriber.
// The event is then handed to the Transport, if any: an error from it means
// only that other instances may not receive the event, which this instance
// has published. An invalid event fails with EINVALID.
//
// An event identical to one published within its type's dedup window is
// not published again: Publish returns it carrying the earlier event's ID.
func (b *Bus) Publish(ctx context.Context, e Event) (Event, error) {
	e, err := prepare(e)
	if err != nil {
		return Event{}, err
	}
	if b.stopped.Load() {
		return Event{}, errStopped
	}
	e.At, e.Origin = b.now(), b.instance
	t, dup := b.append(e, b.dedupWindow(e.Type))
	if dup != "" {
		e.ID = dup
		return e, nil
	}
	e.ID = t.id
	if t.transport == nil {
		return e, nil
	}
	if err := t.transport.Send(ctx, e); err != nil {
		return e, fmt.Errorf("send event %s to other instances: %w", e.ID, err)
	}
	return e, nil
}

// appended is what append reports about a new event.
type appended struct {
	id        string
	transport Transport
}

// append gives e its id, records it and wakes its subscribers, unless an
// identical event is inside its dedup window: then it returns that event's
// id as dup.
func (b *Bus) append(e Event, window time.Duration) (_ appended, dup string) {
	var key string
	if window > 0 {
		key = dedupKey(e)
	}
	b.mu.Lock()
	if key != "" {
		if id, ok := b.dedup.lookup(key, e.At); ok {
			b.mu.Unlock()
			b.deduplicated.Add(1)
			return appended{}, id
		}
	}
	e.ID = b.ids.next(e.At)
	if key != "" {
		b.dedup.remember(key, e.ID, e.At.Add(window))
	}
	b.ring.push(&entry{ev: e})
	t := b.transport
	b.mu.Unlock()
	b.published.Add(1)
	b.wake(e)
	return appended{id: e.ID, transport: t}, ""
}

// dedupWindow returns the dedup window of an event type, 0 for none.
func (b *Bus) dedupWindow(typ string) time.Duration {
	if w, ok := b.dedupWindows[typ]; ok {
		return w
	}
	return b.defaultDedup
}

// batchWindow returns the coalescing window of an event type, 0 for none.
func (b *Bus) batchWindow(typ string) time.Duration { return b.batchWindows[typ] }

// Deliver records an event published on another instance and wakes its
// subscribers; it is never sent to the Transport again. An event whose
// Origin is this instance (an echo) is ignored, as is everything after
// Stop.
func (b *Bus) Deliver(e Event) {
	if e.Origin == b.instance || b.stopped.Load() {
		return
	}
	if e.Topics == nil {
		e.Topics = []string{}
	}
	if len(e.Data) == 0 {
		e.Data = emptyData
	}
	if e.At.IsZero() {
		e.At = b.now()
	}
	b.mu.Lock()
	if e.ID == "" {
		e.ID = b.ids.next(e.At)
	}
	b.ring.push(&entry{ev: e})
	b.mu.Unlock()
	b.remote.Add(1)
	b.wake(e)
}

// Reset sends every subscriber a reset frame, in order with the events
// around it; a subscription replaying across it receives it too. Use it
// after a gap in what reached this instance.
func (b *Bus) Reset(reason string) {
	if b.stopped.Load() {
		return
	}
	b.mu.Lock()
	b.ring.push(&entry{reset: true, reason: reason})
	b.mu.Unlock()
	for _, s := range *b.subs.Load() {
		s.poke()
	}
}

// wake pokes every subscription whose filter matches e.
func (b *Bus) wake(e Event) {
	for _, s := range *b.subs.Load() {
		if s.filter.Load().Match(e) {
			s.poke()
		}
	}
}

// readResult is what a delivery goroutine gets from one read of the ring.
type readResult struct {
	entries []*entry // the entries read, in order
	overrun uint64   // entries that left the ring before they were read
	skipped int      // matching events skipped because newer ones fill the queue
	reset   *entry   // the last reset skipped, if any
}

// read returns up to limit entries from *cursor on, appended to dst, and
// advances the cursor. With keep > 0 it first skips all but the newest keep
// entries that match filter (see ring.skipOld). Events of batched types
// count neither toward keep nor as skipped: they coalesce into few frames,
// and those behind keep newer frames are dropped with the rest.
func (b *Bus) read(cursor *uint64, dst []*entry, limit, keep int, filter *Filter) readResult {
	var r readResult
	if keep > 0 && b.ring.next.Load()-*cursor > uint64(keep) {
		r.skipped, r.reset, r.overrun = b.ring.skipOld(cursor, keep, func(e *entry) bool {
			return b.batchWindow(e.ev.Type) == 0 && filter.Match(e.ev)
		})
	}
	var overrun uint64
	r.entries, overrun = b.ring.read(cursor, dst, limit)
	r.overrun += overrun
	return r
}

// Stats returns a snapshot of the bus's counters.
func (b *Bus) Stats() BusStats {
	subs := *b.subs.Load()
	total := b.retired.snapshot()
	for _, s := range subs {
		total.add(s.counters.snapshot())
	}
	n := b.ring.len()
	return BusStats{
		Published: b.published.Load(), Remote: b.remote.Load(), Deduplicated: b.deduplicated.Load(),
		Delivered: total.delivered, Dropped: total.dropped, Lost: total.lost,
		Subscribers: len(subs), RingLen: n,
	}
}
