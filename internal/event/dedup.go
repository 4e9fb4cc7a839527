package event

import (
	"crypto/sha256"
	"slices"
	"strings"
	"time"
)

// maxDedupKeys bounds the dedup memory: beyond it the oldest keys are
// forgotten before their window ends.
const maxDedupKeys = 16384

// dedupKey identifies identical events: type, sorted topics and the SHA-256
// of the data.
func dedupKey(e Event) string {
	topics := slices.Sorted(slices.Values(e.Topics))
	sum := sha256.Sum256(e.Data)
	var b strings.Builder
	b.Grow(len(e.Type) + len(sum) + 16*len(topics))
	b.WriteString(e.Type)
	for _, t := range topics {
		b.WriteByte(0)
		b.WriteString(t)
	}
	b.WriteByte(0)
	b.Write(sum[:])
	return b.String()
}

// seenEvent is what dedup remembers of a delivered event.
type seenEvent struct {
	id    string
	until time.Time
}

// expiry is one key in dedup's FIFO, with the deadline it was added with.
type expiry struct {
	key   string
	until time.Time
}

// dedup remembers recently published events by key until their window
// ends. The bus guards it with its mutex.
type dedup struct {
	seen  map[string]seenEvent
	fifo  []expiry
	first int
}

func newDedup() dedup { return dedup{seen: make(map[string]seenEvent)} }

// lookup returns the id of an identical event still inside its window.
func (d *dedup) lookup(key string, now time.Time) (string, bool) {
	d.prune(now)
	s, ok := d.seen[key]
	if !ok || !now.Before(s.until) {
		return "", false
	}
	return s.id, true
}

// remember records the event id published under key until until.
func (d *dedup) remember(key, id string, until time.Time) {
	d.seen[key] = seenEvent{id: id, until: until}
	d.fifo = append(d.fifo, expiry{key: key, until: until})
}

// prune forgets keys whose window ended, and the oldest keys beyond
// maxDedupKeys. Windows differ per type, so a key whose window has ended may
// wait behind a longer one; lookup checks the deadline anyway.
func (d *dedup) prune(now time.Time) {
	for d.first < len(d.fifo) {
		x := d.fifo[d.first]
		if now.Before(x.until) && len(d.fifo)-d.first <= maxDedupKeys {
			break
		}
		if d.seen[x.key].until.Equal(x.until) {
			delete(d.seen, x.key)
		}
		d.fifo[d.first] = expiry{}
		d.first++
	}
	if d.first > 1024 && d.first*2 > len(d.fifo) {
		n := copy(d.fifo, d.fifo[d.first:])
		clear(d.fifo[n:])
		d.fifo, d.first = d.fifo[:n], 0
	}
}
