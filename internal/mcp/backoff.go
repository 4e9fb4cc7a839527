package mcp

import (
	"context"
	"math/rand/v2"
	"time"
)

// jitter is the relative spread of each backoff wait, so servers lost
// together are not retried in lockstep.
const jitter = 0.2

// backoff yields the waits between connection attempts: min, doubling up
// to max, each ±20 %.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
}

// next returns the wait before the next attempt and advances.
func (b *backoff) next() time.Duration {
	d := max(b.cur, b.min)
	b.cur = min(d*2, b.max)
	return time.Duration(float64(d) * (1 - jitter + 2*jitter*rand.Float64()))
}

// reset starts the sequence over from min.
func (b *backoff) reset() { b.cur = 0 }

// sleep waits for d or until ctx ends, and reports whether the full wait
// elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
