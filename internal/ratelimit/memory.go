package ratelimit

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// DefaultMaxKeys is the bound NewMemory uses when given none.
const DefaultMaxKeys = 100_000

// Memory is a Limiter that keeps its state in this process. It holds at most
// maxKeys (key, rate) pairs; when full it forgets the least recently used
// one, which then starts again with a full budget. A pair unused for one
// period has a full bucket anyway, so forgetting it changes nothing. Memory
// is safe for concurrent use.
type Memory struct {
	now     func() time.Time
	maxKeys int

	mu      sync.Mutex
	entries map[memoryKey]*list.Element // values are *memoryEntry
	recent  list.List                   // most recently used first
}

// memoryKey identifies one bucket.
type memoryKey struct {
	key  string
	rate Rate
}

// memoryEntry is one bucket: its theoretical arrival time in Unix
// nanoseconds.
type memoryEntry struct {
	id  memoryKey
	tat int64
}

// NewMemory returns a Memory holding at most maxKeys buckets
// (DefaultMaxKeys when maxKeys <= 0) and reading the time from now
// (time.Now when nil).
func NewMemory(maxKeys int, now func() time.Time) *Memory {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, maxKeys: maxKeys, entries: make(map[memoryKey]*list.Element)}
}

// Allow counts one request under key at rate r. Its only error is an
// invalid rate.
func (m *Memory) Allow(_ context.Context, key string, r Rate) (Decision, error) {
	if err := r.Validate(); err != nil {
		return Decision{}, err
	}
	now := m.now().UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entry(memoryKey{key, r})
	tat, c := gcra(now, e.tat, int64(r.interval()), r.Count)
	e.tat = tat
	return c.decision(r.Count, time.Nanosecond), nil
}

// Len reports how many buckets Memory holds.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// entry returns the bucket for id, marked most recently used, creating it
// (and evicting the least recently used one if full) when missing. The
// caller holds m.mu.
func (m *Memory) entry(id memoryKey) *memoryEntry {
	if el, ok := m.entries[id]; ok {
		m.recent.MoveToFront(el)
		return el.Value.(*memoryEntry)
	}
	if len(m.entries) >= m.maxKeys {
		oldest := m.recent.Back()
		delete(m.entries, oldest.Value.(*memoryEntry).id)
		m.recent.Remove(oldest)
	}
	e := &memoryEntry{id: id}
	m.entries[id] = m.recent.PushFront(e)
	return e
}
