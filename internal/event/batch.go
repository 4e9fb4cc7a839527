package event

import (
	"strings"
	"time"
)

const (
	// maxBatchEvents is the most events a batch frame carries: the newest.
	maxBatchEvents = 1000
	// maxOpenBatches bounds the windows one subscription keeps open; a new
	// stream beyond it flushes the oldest window early.
	maxOpenBatches = 32
)

// batch is one open coalescing window of a (type, topics) stream.
type batch struct {
	key      string
	topics   []string
	events   []Event
	deadline time.Time
}

// add appends e, keeping at most the newest maxBatchEvents (plus slack, so
// that trimming is amortised).
func (b *batch) add(e Event) {
	b.events = append(b.events, e)
	if len(b.events) >= maxBatchEvents+maxBatchEvents/4 {
		n := copy(b.events, b.events[len(b.events)-maxBatchEvents:])
		clear(b.events[n:])
		b.events = b.events[:n]
	}
}

// frame returns the window as one frame: a batch, or a plain event frame
// when the window caught a single event.
func (b *batch) frame() Frame {
	if len(b.events) == 1 {
		return Frame{Kind: KindEvent, Event: b.events[0]}
	}
	events := b.events[max(0, len(b.events)-maxBatchEvents):]
	return Frame{Kind: KindBatch, Batch: events[:len(events):len(events)]}
}

// batcher holds one subscription's open windows, in the order they opened,
// and a timer for the earliest deadline. Batch windows are measured with
// time.Now and timers, which testing/synctest fakes.
type batcher struct {
	open  []*batch
	timer *time.Timer
	armed time.Time
}

// add puts e into its stream's window, opening one of the given length
// when none is open.
func (bs *batcher) add(e Event, window time.Duration, emit func(Frame)) {
	key := batchKey(e)
	for _, b := range bs.open {
		if b.key == key {
			b.add(e)
			return
		}
	}
	if len(bs.open) >= maxOpenBatches {
		bs.flush(0, emit)
	}
	b := &batch{key: key, topics: e.Topics, deadline: time.Now().Add(window)}
	b.add(e)
	bs.open = append(bs.open, b)
	bs.arm()
}

// batchKey names the stream of e: its type and topics.
func batchKey(e Event) string {
	return e.Type + "\x00" + strings.Join(e.Topics, "\x00")
}

// flushDue emits every window whose deadline has passed.
func (bs *batcher) flushDue(emit func(Frame)) {
	now := time.Now()
	for i := 0; i < len(bs.open); {
		if bs.open[i].deadline.After(now) {
			i++
			continue
		}
		bs.flush(i, emit)
	}
	bs.armed = time.Time{} // the timer has fired: arm it again whatever the deadline
	bs.arm()
}

// flushSharing emits, in order, every window sharing a topic with topics.
func (bs *batcher) flushSharing(topics []string, emit func(Frame)) {
	flushed := false
	for i := 0; i < len(bs.open); {
		if !sharesTopic(bs.open[i].topics, topics) {
			i++
			continue
		}
		bs.flush(i, emit)
		flushed = true
	}
	if flushed {
		bs.arm()
	}
}

// flushAll emits every open window.
func (bs *batcher) flushAll(emit func(Frame)) {
	for len(bs.open) > 0 {
		bs.flush(0, emit)
	}
	bs.arm()
}

// flush emits window i and removes it.
func (bs *batcher) flush(i int, emit func(Frame)) {
	emit(bs.open[i].frame())
	copy(bs.open[i:], bs.open[i+1:])
	bs.open[len(bs.open)-1] = nil
	bs.open = bs.open[:len(bs.open)-1]
}

// arm points the timer at the earliest open deadline, or stops it.
func (bs *batcher) arm() {
	var next time.Time
	for _, b := range bs.open {
		if next.IsZero() || b.deadline.Before(next) {
			next = b.deadline
		}
	}
	switch {
	case next.Equal(bs.armed):
	case next.IsZero():
		bs.timer.Stop()
	case bs.timer == nil:
		bs.timer = time.NewTimer(time.Until(next))
	default:
		bs.timer.Reset(time.Until(next))
	}
	bs.armed = next
}

// C returns the timer's channel, or nil when no window is open.
func (bs *batcher) C() <-chan time.Time {
	if bs.armed.IsZero() {
		return nil
	}
	return bs.timer.C
}

// stop releases the timer.
func (bs *batcher) stop() {
	if bs.timer != nil {
		bs.timer.Stop()
	}
}

// sharesTopic reports whether a and b have a topic in common.
func sharesTopic(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}
