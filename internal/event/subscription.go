package event

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// Overflow is what a subscription does when its queue is full.
type Overflow int

const (
	// DropOldest suits live views: the oldest queued frame is dropped and
	// the subscriber then receives lagged{missed}.
	DropOldest Overflow = iota
	// Block suits internal consumers: delivery waits up to BlockTimeout for
	// room, then drops the oldest queued frame and counts a loss.
	Block
)

// Defaults of SubscribeOptions.
const (
	DefaultQueue        = 256
	DefaultBlockTimeout = time.Second
)

// SubscribeOptions configures a subscription.
type SubscribeOptions struct {
	Filter       Filter
	Queue        int           // bounded queue length; 0 → 256
	Overflow     Overflow      // DropOldest or Block
	BlockTimeout time.Duration // Block only; 0 → 1 s
	// Since replays from after this event id; "" = live only. If the id has
	// left the ring (or is unknown and older than the ring's oldest), the
	// first frame is reset.
	Since string
}

// validate rejects options no subscription can honour.
func (o SubscribeOptions) validate() error {
	if o.Queue < 0 || o.BlockTimeout < 0 || o.Overflow != DropOldest && o.Overflow != Block {
		return gathering.Invalid("Invalid subscription options.")
	}
	return nil
}

// SubscriptionStats is a snapshot of a subscription's counters.
type SubscriptionStats struct {
	Delivered uint64 // frames received through Frames (lagged notices excluded)
	Dropped   uint64 // frames dropped under DropOldest
	Lost      uint64 // frames lost under Block
	Queued    int    // frames waiting to be received
	// Behind counts the ring entries published since the last one the
	// subscription read, whether or not its filter selects them. A stalled
	// DropOldest subscription stops reading the ring and counts its drops
	// when its reader comes back; meanwhile Behind grows.
	Behind int
}

// Subscription receives the frames of the events its filter selects. Its
// delivery goroutine runs until Close or the bus's Stop.
type Subscription struct {
	bus    *Bus
	filter atomic.Pointer[Filter]
	wake   chan struct{} // a poke: the ring or the filter changed
	stop   chan struct{}
	done   chan struct{} // closed when the delivery goroutine has ended
	out    chan Frame

	stopOnce, retireOnce sync.Once
	counters             subStats
	pending              atomic.Int64  // frames queued inside the delivery goroutine
	cursor               atomic.Uint64 // the delivery goroutine's ring cursor
}

// Subscribe opens a subscription and starts its delivery goroutine. Invalid
// options fail with EINVALID; after Stop it fails with EUNAVAILABLE.
func (b *Bus) Subscribe(opts SubscribeOptions) (*Subscription, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s, d := newSubscription(b, opts)
	d.cursor, d.resetFirst = b.ring.locate(opts.Since)
	s.cursor.Store(d.cursor)
	b.subsMu.Lock()
	defer b.subsMu.Unlock()
	if b.stopped.Load() {
		return nil, errStopped
	}
	subs := append(slices.Clone(*b.subs.Load()), s)
	b.subs.Store(&subs)
	go d.run()
	return s, nil
}

// newSubscription builds a subscription and its delivery state. Of the
// queue, up to a quarter (at most 64 frames) is the Frames channel's buffer
// and the rest is the delivery goroutine's own queue, where overflow
// applies.
func newSubscription(b *Bus, opts SubscribeOptions) (*Subscription, *delivery) {
	queue := max(opts.Queue, 0)
	if queue == 0 {
		queue = DefaultQueue
	}
	chanCap := min(queue/4, 64)
	s := &Subscription{
		bus:  b,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
		out:  make(chan Frame, chanCap),
	}
	f := opts.Filter.clone()
	s.filter.Store(&f)
	d := &delivery{
		sub:          s,
		overflow:     opts.Overflow,
		capacity:     queue - chanCap,
		blockTimeout: opts.BlockTimeout,
	}
	if d.blockTimeout == 0 {
		d.blockTimeout = DefaultBlockTimeout
	}
	return s, d
}

// Frames returns the channel of frames. It is closed when the subscription
// or the bus stops.
func (s *Subscription) Frames() <-chan Frame { return s.out }

// SetFilter changes what the subscription receives from now on: events not
// yet handed to its queue are filtered with f.
func (s *Subscription) SetFilter(f Filter) {
	f = f.clone()
	s.filter.Store(&f)
	s.poke()
}

// Stats returns a snapshot of the subscription's counters.
func (s *Subscription) Stats() SubscriptionStats {
	c := s.counters.snapshot()
	next := s.bus.ring.next.Load()
	return SubscriptionStats{
		Delivered: c.delivered, Dropped: c.dropped, Lost: c.lost,
		Queued: int(s.pending.Load()) + len(s.out),
		Behind: int(next - min(s.cursor.Load(), next)),
	}
}

// Close ends the subscription: its delivery goroutine stops, frames not yet
// received are discarded and Frames is closed. Close waits for the goroutine
// and may be called more than once.
func (s *Subscription) Close() {
	s.signalStop()
	s.bus.remove(s)
	<-s.done
	s.bus.retire(s)
}

// signalStop asks the delivery goroutine to end.
func (s *Subscription) signalStop() { s.stopOnce.Do(func() { close(s.stop) }) }

// poke wakes the delivery goroutine without ever waiting.
func (s *Subscription) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// remove takes s off the list of subscriptions to wake.
func (b *Bus) remove(s *Subscription) {
	b.subsMu.Lock()
	defer b.subsMu.Unlock()
	subs := slices.DeleteFunc(slices.Clone(*b.subs.Load()), func(x *Subscription) bool { return x == s })
	b.subs.Store(&subs)
}

// retire folds a closed subscription's counters into the bus's, once.
func (b *Bus) retire(s *Subscription) {
	s.retireOnce.Do(func() { b.retired.addAtomic(s.counters.snapshot()) })
}

// subStats are a subscription's counters.
type subStats struct {
	delivered, dropped, lost atomic.Uint64
}

// counts is a plain snapshot of subStats.
type counts struct {
	delivered, dropped, lost uint64
}

func (c *subStats) snapshot() counts {
	return counts{delivered: c.delivered.Load(), dropped: c.dropped.Load(), lost: c.lost.Load()}
}

func (c *subStats) addAtomic(x counts) {
	c.delivered.Add(x.delivered)
	c.dropped.Add(x.dropped)
	c.lost.Add(x.lost)
}

func (c *counts) add(x counts) {
	c.delivered += x.delivered
	c.dropped += x.dropped
	c.lost += x.lost
}
