package event

import "time"

// readChunk is the most ring entries a delivery goroutine reads per pass.
const readChunk = 256

// delivery is the state of one subscription's delivery goroutine, which
// alone touches it. The goroutine reads the ring from its cursor, filters,
// coalesces and queues frames, and hands them to the Frames channel.
type delivery struct {
	sub          *Subscription
	overflow     Overflow
	capacity     int // frames the queue holds before overflow applies
	blockTimeout time.Duration

	cursor     uint64 // next ring entry to read
	resetFirst bool   // Since had left the ring
	buf        []*entry
	queue      frameQueue
	missed     int // frames dropped or lost since the last lagged frame
	batches    batcher

	blockTimer *time.Timer
	blocking   bool // blockTimer runs: the queue is full and the ring has more
}

// run is the delivery goroutine.
func (d *delivery) run() {
	s := d.sub
	defer close(s.done)
	defer close(s.out)
	defer d.stopTimers()
	if d.resetFirst {
		d.enqueue(Frame{Kind: KindReset, Reason: "the requested event has left the history"})
	}
	for {
		more := d.pull()
		d.push()
		if more && !d.stopping() {
			continue
		}
		if !d.wait() {
			return
		}
	}
}

// stopping reports whether Close or Stop was called.
func (d *delivery) stopping() bool {
	select {
	case <-d.sub.stop:
		return true
	default:
		return false
	}
}

// pull reads one chunk of the ring into the queue and reports whether there
// may be more to read now.
func (d *delivery) pull() bool {
	limit := d.limit()
	if limit <= 0 {
		return false
	}
	filter := d.sub.filter.Load()
	r := d.sub.bus.read(&d.cursor, d.buf[:0], limit, d.keep(), filter)
	d.sub.cursor.Store(d.cursor)
	if r.overrun > 0 {
		d.lose(int(r.overrun))
	}
	if r.skipped > 0 {
		d.skip(r.skipped)
	}
	if r.reset != nil {
		d.accept(r.reset, filter)
	}
	for i, x := range r.entries {
		d.accept(x, filter)
		r.entries[i] = nil
	}
	d.buf = r.entries[:0]
	return len(r.entries) == limit
}

// limit returns how many ring entries to read now. A Block subscription
// reads only what its queue has room for. A stalled DropOldest one (queue
// and channel full) reads nothing: the ring holds what came in, and when
// its reader comes back, keep lets it skip what it would have dropped.
func (d *delivery) limit() int {
	switch {
	case d.overflow == Block:
		return min(readChunk, d.capacity-d.queue.len())
	case d.stalled():
		return 0
	default:
		return readChunk
	}
}

// keep is how many of the newest matching entries a DropOldest
// subscription needs at most: its queue's capacity. Older ones it would
// drop anyway, so they are skipped unread. Block never skips.
func (d *delivery) keep() int {
	if d.overflow == Block {
		return 0
	}
	return d.capacity
}

// stalled reports whether the queue and the Frames channel are both full.
func (d *delivery) stalled() bool {
	return d.queue.len() >= d.capacity && len(d.sub.out) == cap(d.sub.out)
}

// skip accounts for n matching events skipped in the ring because at least
// a queue's worth of newer ones follow: everything queued goes too.
func (d *delivery) skip(n int) {
	n += d.queue.len()
	d.queue.clear()
	d.sub.pending.Store(0)
	d.missed += n
	d.sub.counters.dropped.Add(uint64(n))
}

// accept turns one ring entry into frames.
func (d *delivery) accept(x *entry, filter *Filter) {
	if x.reset {
		d.batches.flushAll(d.enqueue)
		d.enqueue(Frame{Kind: KindReset, Reason: x.reason})
		return
	}
	if !filter.Match(x.ev) {
		return
	}
	if w := d.sub.bus.batchWindow(x.ev.Type); w > 0 {
		d.batches.add(x.ev, w, d.enqueue)
		return
	}
	d.batches.flushSharing(x.ev.Topics, d.enqueue)
	d.enqueue(Frame{Kind: KindEvent, Event: x.ev})
}

// enqueue queues f. Under DropOldest a full queue first drops its oldest
// frame. Under Block the queue is only filled from the ring while it has
// room, but flushed batches may briefly exceed it (by at most
// maxOpenBatches).
func (d *delivery) enqueue(f Frame) {
	if d.overflow == DropOldest && d.queue.len() >= d.capacity {
		d.queue.pop()
		d.missed++
		d.sub.counters.dropped.Add(1)
	}
	d.queue.push(f)
	d.sub.pending.Store(int64(d.queue.len()))
}

// lose counts n frames that never reached the subscriber.
func (d *delivery) lose(n int) {
	d.missed += n
	if d.overflow == Block {
		d.sub.counters.lost.Add(uint64(n))
	} else {
		d.sub.counters.dropped.Add(uint64(n))
	}
}

// head returns the next frame to hand over: a lagged notice when frames
// were missed, else the oldest queued frame.
func (d *delivery) head() (Frame, bool) {
	switch {
	case d.missed > 0:
		return Frame{Kind: KindLagged, Missed: d.missed}, true
	case d.queue.len() > 0:
		return d.queue.front(), true
	default:
		return Frame{}, false
	}
}

// sent records that the head frame f was handed over.
func (d *delivery) sent(f Frame) {
	if f.Kind == KindLagged && d.missed > 0 {
		d.missed = 0
		return
	}
	d.queue.pop()
	d.sub.pending.Store(int64(d.queue.len()))
	d.sub.counters.delivered.Add(1)
	d.blocking = false
	if d.blockTimer != nil {
		d.blockTimer.Stop()
	}
}

// push hands frames to the Frames channel while it has room.
func (d *delivery) push() {
	for {
		f, ok := d.head()
		if !ok {
			return
		}
		select {
		case d.sub.out <- f:
			d.sent(f)
		default:
			return
		}
	}
}

// wait blocks until something happens: a frame is handed over, the ring or
// filter changes, a batch window ends, a Block wait times out or the
// subscription stops, which makes it return false.
func (d *delivery) wait() bool {
	var out chan Frame
	f, ok := d.head()
	if ok {
		out = d.sub.out
	}
	blockC := d.blockC()
	select {
	case out <- f:
		d.sent(f)
	case <-d.wakeC():
	case <-d.batches.C():
		d.batches.flushDue(d.enqueue)
	case <-blockC:
		d.timeout()
	case <-d.sub.stop:
		return false
	}
	return true
}

// wakeC returns the channel of pokes, or nil when a poke could change
// nothing: a stalled DropOldest subscription waits for its reader, a Block
// one whose timer runs waits for its reader or the timeout.
func (d *delivery) wakeC() <-chan struct{} {
	if d.overflow == DropOldest && d.stalled() || d.blocking {
		return nil
	}
	return d.sub.wake
}

// blockC returns the channel of the Block timer, started when a Block
// subscription's queue is full while the ring has more for it; nil when it
// is not blocked.
func (d *delivery) blockC() <-chan time.Time {
	full := d.overflow == Block && d.queue.len() >= d.capacity && d.cursor < d.sub.bus.ring.next.Load()
	switch {
	case !full:
		if d.blocking {
			d.blockTimer.Stop()
			d.blocking = false
		}
		return nil
	case d.blocking:
	case d.blockTimer == nil:
		d.blockTimer = time.NewTimer(d.blockTimeout)
	default:
		d.blockTimer.Reset(d.blockTimeout)
	}
	d.blocking = true
	return d.blockTimer.C
}

// timeout drops the oldest queued frame of a Block subscription that made
// no room within BlockTimeout, and counts it lost.
func (d *delivery) timeout() {
	d.blocking = false
	if d.queue.len() == 0 {
		return
	}
	d.queue.pop()
	d.sub.pending.Store(int64(d.queue.len()))
	d.lose(1)
}

// stopTimers releases the goroutine's timers.
func (d *delivery) stopTimers() {
	d.batches.stop()
	if d.blockTimer != nil {
		d.blockTimer.Stop()
	}
}
