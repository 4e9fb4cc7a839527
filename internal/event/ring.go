package event

import "sync/atomic"

// entry is one slot of the ring: an event, or a reset marker that every
// subscriber reading past it turns into a reset frame. Entries never change
// once pushed, so delivery goroutines share them without copying.
type entry struct {
	seq    uint64 // position in the ring's history
	ev     Event
	reset  bool
	reason string
}

// ring is the bounded history of the bus: entry number seq lives in
// slots[seq % len(slots)], and the ring holds the entries [oldest(), next).
// Writers hold the bus's mutex; readers take no lock: an entry is immutable,
// and one overwritten by a newer lap shows a different seq.
type ring struct {
	slots []atomic.Pointer[entry]
	next  atomic.Uint64
}

func newRing(size int) *ring { return &ring{slots: make([]atomic.Pointer[entry], size)} }

// push appends e, overwriting the oldest entry when the ring is full. The
// caller holds the bus's mutex.
func (r *ring) push(e *entry) {
	e.seq = r.next.Load()
	r.slots[e.seq%uint64(len(r.slots))].Store(e)
	r.next.Store(e.seq + 1)
}

// get returns entry seq, which must be below next, or false when a newer
// lap has overwritten it.
func (r *ring) get(seq uint64) (*entry, bool) {
	e := r.slots[seq%uint64(len(r.slots))].Load()
	return e, e.seq == seq
}

// oldestBefore returns the oldest sequence number held when next is next.
func (r *ring) oldestBefore(next uint64) uint64 {
	return next - min(next, uint64(len(r.slots)))
}

// len returns the number of entries held.
func (r *ring) len() int {
	next := r.next.Load()
	return int(next - r.oldestBefore(next))
}

// read appends to dst up to limit entries from *cursor on and advances the
// cursor past them. Entries that left the ring before they were read are
// skipped and counted in overrun.
func (r *ring) read(cursor *uint64, dst []*entry, limit int) (_ []*entry, overrun uint64) {
	next := r.next.Load()
	overrun = r.catchUp(cursor, next)
	for *cursor < next && limit > 0 {
		e, ok := r.get(*cursor)
		if !ok {
			overrun += r.catchUp(cursor, r.next.Load())
			continue
		}
		dst = append(dst, e)
		*cursor++
		limit--
	}
	return dst, overrun
}

// catchUp moves a cursor that left the ring to its oldest entry and returns
// how many entries it jumped.
func (r *ring) catchUp(cursor *uint64, next uint64) uint64 {
	old := r.oldestBefore(next)
	if *cursor >= old {
		return 0
	}
	n := old - *cursor
	*cursor = old
	return n
}

// skipOld moves the cursor past all but the newest keep entries that match
// (resets always match), when more than keep do. It returns how many
// matching events it skipped, the last reset skipped, if any, and the
// entries that left the ring before they could be looked at.
func (r *ring) skipOld(cursor *uint64, keep int, match func(*entry) bool) (skipped int, reset *entry, overrun uint64) {
	next := r.next.Load()
	overrun = r.catchUp(cursor, next)
	from, n := next, 0
	for n < keep && from > *cursor {
		from--
		e, ok := r.get(from)
		if !ok { // everything up to from is gone
			return 0, nil, overrun + r.catchUp(cursor, from+1+uint64(len(r.slots)))
		}
		if e.reset || match(e) {
			n++
		}
	}
	if n < keep {
		return 0, nil, overrun
	}
	for ; *cursor < from; *cursor++ {
		switch e, ok := r.get(*cursor); {
		case !ok:
			overrun++
		case e.reset:
			reset = e
		case match(e):
			skipped++
		}
	}
	return skipped, reset, overrun
}

// locate returns where a subscription resuming after event id since starts
// reading. An id held by the ring resumes right after it. An unknown id
// older than every held event (or any id when the ring holds no event) has
// left the ring: the subscription starts live and reset is true. Any other
// unknown id resumes at the first held event that sorts after it.
func (r *ring) locate(since string) (cursor uint64, reset bool) {
	next := r.next.Load()
	if since == "" {
		return next, false
	}
	oldest := r.oldestBefore(next)
	for seq := next; seq > oldest; seq-- {
		if e, ok := r.get(seq - 1); ok && !e.reset && e.ev.ID == since {
			return seq, false
		}
	}
	first := true
	for seq := oldest; seq < next; seq++ {
		e, ok := r.get(seq)
		switch {
		case !ok || e.reset:
		case first && since < e.ev.ID:
			return next, true
		case e.ev.ID > since:
			return seq, false
		default:
			first = false
		}
	}
	return next, first
}
