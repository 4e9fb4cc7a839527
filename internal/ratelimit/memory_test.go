package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// newFakeClock returns a clock at the start of a minute.
func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemory(t *testing.T) {
	t.Parallel()
	var clock *fakeClock
	exercise(t, harness{
		newLimiter: func(*testing.T) Limiter {
			clock = newFakeClock()
			return NewMemory(0, clock.Now)
		},
		sleep: func(d time.Duration) { clock.Advance(d) },
		short: Rate{5, time.Minute},
	})
}

func TestMemoryRetryAfterIsExact(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	m, r := NewMemory(0, clock.Now), Rate{5, time.Minute}
	countAllowed(t, m, "k", r, 5)
	clock.Advance(5 * time.Second)
	d := allow(t, m, "k", r)
	if d.Allowed || d.RetryAfter != 7*time.Second || d.ResetAfter != 55*time.Second {
		t.Fatalf("5 s after a full burst: %+v, want denied, retry after 7s, reset after 55s", d)
	}
	clock.Advance(7*time.Second - time.Nanosecond)
	if allow(t, m, "k", r).Allowed {
		t.Fatal("allowed 1 ns early")
	}
	clock.Advance(time.Nanosecond)
	if !allow(t, m, "k", r).Allowed {
		t.Fatal("denied at RetryAfter")
	}
}

func TestMemoryRefillsToBurstOnly(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	m, r := NewMemory(0, clock.Now), Rate{5, time.Minute}
	countAllowed(t, m, "k", r, 1)
	clock.Advance(time.Hour) // idle for long: still only a burst of 5
	if n := countAllowed(t, m, "k", r, 10); n != 5 {
		t.Fatalf("after an idle hour %d of 10 allowed, want 5", n)
	}
}

func TestMemoryKeyBound(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	m, r := NewMemory(3, clock.Now), Rate{5, time.Minute}
	countAllowed(t, m, "a", r, 5)
	countAllowed(t, m, "b", r, 1)
	countAllowed(t, m, "c", r, 1)
	allow(t, m, "a", r) // a is now the most recently used
	countAllowed(t, m, "d", r, 1)
	if n := m.Len(); n != 3 {
		t.Fatalf("Len = %d, want 3", n)
	}
	if allow(t, m, "a", r).Allowed {
		t.Fatal("a was evicted although b was the least recently used")
	}
	for i := range 1000 {
		allow(t, m, fmt.Sprint("k", i), r)
	}
	if n := m.Len(); n != 3 {
		t.Fatalf("Len after 1000 keys = %d, want 3", n)
	}
	if d := allow(t, m, "a", r); !d.Allowed || d.Remaining != 4 {
		t.Fatalf("evicted a: %+v, want a full budget again", d)
	}
}

func TestMemoryDefaults(t *testing.T) {
	t.Parallel()
	m := NewMemory(0, nil)
	if m.maxKeys != DefaultMaxKeys {
		t.Fatalf("maxKeys = %d, want %d", m.maxKeys, DefaultMaxKeys)
	}
	if !allow(t, m, "k", Rate{1, time.Second}).Allowed {
		t.Fatal("first call on the real clock denied")
	}
}

func TestGCRAOddInterval(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	m, r := NewMemory(0, clock.Now), Rate{7, time.Hour}
	if n := countAllowed(t, m, "k", r, 8); n != 7 {
		t.Fatalf("%d of 8 allowed, want 7", n)
	}
	clock.Advance(r.interval())
	if n := countAllowed(t, m, "k", r, 2); n != 1 {
		t.Fatalf("after one interval %d of 2 allowed, want 1", n)
	}
}
