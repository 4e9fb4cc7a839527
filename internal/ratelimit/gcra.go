package ratelimit

import (
	"context"
	"time"
)

// Limiter decides whether one more request under key may proceed at rate r.
// Each (key, rate) pair has its own budget.
type Limiter interface {
	Allow(ctx context.Context, key string, r Rate) (Decision, error)
}

// Decision is the answer to one Allow call, with what rate-limit headers
// need.
type Decision struct {
	// Allowed reports whether the request may proceed; it has been counted.
	Allowed bool
	// Limit is the rate's Count, the size of the burst.
	Limit int
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// ResetAfter is the time until the bucket is full again.
	ResetAfter time.Duration
	// RetryAfter is the time until a request would be allowed; 0 when
	// allowed.
	RetryAfter time.Duration
}

// cell is a GCRA decision in the limiter's time unit (nanoseconds in
// memory, microseconds in Redis).
type cell struct {
	allowed    bool
	remaining  int64
	resetAfter int64
	retryAfter int64
}

// gcra applies one request at time now to a bucket whose theoretical
// arrival time is tat. Each request costs interval; the bucket holds count
// of them. It returns the TAT to keep (tat itself when denied) and the
// decision. The Lua script in gcra.lua is the same function.
func gcra(now, tat, interval int64, count int) (int64, cell) {
	tat = max(tat, now)
	next := tat + interval
	allowAt := next - interval*int64(count)
	if now < allowAt {
		return tat, cell{resetAfter: tat - now, retryAfter: allowAt - now}
	}
	return next, cell{allowed: true, remaining: (now - allowAt) / interval, resetAfter: next - now}
}

// decision converts c, counted in unit, into a Decision for a burst of limit.
func (c cell) decision(limit int, unit time.Duration) Decision {
	return Decision{
		Allowed:    c.allowed,
		Limit:      limit,
		Remaining:  int(c.remaining),
		ResetAfter: time.Duration(c.resetAfter) * unit,
		RetryAfter: time.Duration(c.retryAfter) * unit,
	}
}

// Compile-time checks that every limiter is a Limiter.
var (
	_ Limiter = (*Memory)(nil)
	_ Limiter = (*Redis)(nil)
	_ Limiter = (*Fallback)(nil)
)
