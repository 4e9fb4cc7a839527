package ratelimit

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// harness adapts one Limiter implementation to the shared suite.
type harness struct {
	// newLimiter returns a limiter with empty state.
	newLimiter func(t *testing.T) Limiter
	// sleep lets d pass: a fake clock advances, a real one sleeps.
	sleep func(d time.Duration)
	// short is a rate whose interval the suite waits for: 5/min on a fake
	// clock, a few hundred milliseconds on a real one.
	short Rate
	// tolerance is how far a reported duration may be from the ideal.
	tolerance time.Duration
}

// exercise runs the behaviour every Limiter shares.
func exercise(t *testing.T, h harness) {
	t.Run("Burst", func(t *testing.T) { testBurst(t, h) })
	t.Run("Refill", func(t *testing.T) { testRefill(t, h) })
	t.Run("NoBoundaryDoubling", func(t *testing.T) { testNoBoundaryDoubling(t, h) })
	t.Run("Independent", func(t *testing.T) { testIndependent(t, h) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, h) })
	t.Run("InvalidRate", func(t *testing.T) { testInvalidRate(t, h) })
}

// allow calls l.Allow and fails the test on an error.
func allow(t *testing.T, l Limiter, key string, r Rate) Decision {
	t.Helper()
	d, err := l.Allow(t.Context(), key, r)
	if err != nil {
		t.Fatalf("Allow(%q, %s): %v", key, r, err)
	}
	return d
}

// countAllowed makes n calls and returns how many were allowed.
func countAllowed(t *testing.T, l Limiter, key string, r Rate, n int) int {
	t.Helper()
	allowed := 0
	for range n {
		if allow(t, l, key, r).Allowed {
			allowed++
		}
	}
	return allowed
}

// near fails the test unless got is within tol of want.
func near(t *testing.T, what string, got, want, tol time.Duration) {
	t.Helper()
	if got < want-tol || got > want+tol {
		t.Errorf("%s = %v, want %v ± %v", what, got, want, tol)
	}
}

func testBurst(t *testing.T, h harness) {
	l, r := h.newLimiter(t), Rate{5, time.Minute}
	for i := range 5 {
		d := allow(t, l, "k", r)
		if !d.Allowed || d.Limit != 5 || d.Remaining != 4-i || d.RetryAfter != 0 {
			t.Fatalf("call %d: %+v, want allowed with 5 limit and %d remaining", i+1, d, 4-i)
		}
		near(t, "ResetAfter", d.ResetAfter, time.Duration(i+1)*12*time.Second, h.tolerance)
	}
	d := allow(t, l, "k", r)
	if d.Allowed || d.Remaining != 0 || d.Limit != 5 {
		t.Fatalf("6th call: %+v, want denied with 0 remaining", d)
	}
	near(t, "RetryAfter", d.RetryAfter, 12*time.Second, h.tolerance)
	near(t, "ResetAfter", d.ResetAfter, time.Minute, h.tolerance)
}

func testRefill(t *testing.T, h harness) {
	l, r := h.newLimiter(t), h.short
	if n := countAllowed(t, l, "k", r, 6); n != r.Count {
		t.Fatalf("%d of 6 allowed at once, want %d", n, r.Count)
	}
	h.sleep(r.interval())
	if d := allow(t, l, "k", r); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after one interval: %+v, want allowed with 0 remaining", d)
	}
	if d := allow(t, l, "k", r); d.Allowed {
		t.Fatalf("second call after one interval: %+v, want denied", d)
	}
}

// testNoBoundaryDoubling is the classic fixed-window test: a burst at 59 s
// and another at 61 s of a minute must not both pass.
func testNoBoundaryDoubling(t *testing.T, h harness) {
	l, r := h.newLimiter(t), h.short
	h.sleep(r.Per * 59 / 60)
	first := countAllowed(t, l, "k", r, r.Count)
	h.sleep(r.Per * 2 / 60)
	second := countAllowed(t, l, "k", r, r.Count)
	if first != r.Count || second != 0 {
		t.Fatalf("bursts at 59/60 and 61/60 of the period allowed %d and %d, want %d and 0", first, second, r.Count)
	}
	h.sleep(r.Per)
	if n := countAllowed(t, l, "k", r, 2*r.Count); n != r.Count {
		t.Fatalf("after a full period %d of %d allowed, want %d", n, 2*r.Count, r.Count)
	}
}

func testIndependent(t *testing.T, h harness) {
	l, r := h.newLimiter(t), Rate{5, time.Minute}
	countAllowed(t, l, "a", r, 6)
	if d := allow(t, l, "b", r); !d.Allowed || d.Remaining != 4 {
		t.Fatalf("other key: %+v, want allowed with 4 remaining", d)
	}
	other := Rate{10, time.Minute}
	if d := allow(t, l, "a", other); !d.Allowed || d.Remaining != 9 {
		t.Fatalf("same key, other rate: %+v, want allowed with 9 remaining", d)
	}
	if d := allow(t, l, "a", r); d.Allowed {
		t.Fatalf("exhausted key: %+v, want denied", d)
	}
}

func testConcurrent(t *testing.T, h harness) {
	l, r := h.newLimiter(t), Rate{5, time.Minute}
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			d, err := l.Allow(t.Context(), "k", r)
			if err != nil {
				t.Error(err)
			}
			if d.Allowed {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 5 {
		t.Fatalf("50 concurrent calls allowed %d, want 5", n)
	}
}

func testInvalidRate(t *testing.T, h harness) {
	l := h.newLimiter(t)
	if _, err := l.Allow(t.Context(), "k", Rate{0, time.Minute}); err == nil {
		t.Fatal("Allow with count 0: no error")
	}
}
