package pgbridge

import (
	"math/rand/v2"
	"time"
)

// backoff yields the waits between reconnection attempts: none for the
// first, then a delay that doubles from min to max, each drawn at random
// from its upper half (so instances that lost PostgreSQL together do not
// come back in lockstep).
type backoff struct {
	min, max time.Duration
	cur      time.Duration // 0 until the first attempt has been made
}

// newBackoff returns a backoff from min to max.
func newBackoff(min, max time.Duration) *backoff {
	return &backoff{min: min, max: max}
}

// next returns the wait before the next attempt and advances.
func (b *backoff) next() time.Duration {
	d := b.cur
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(b.cur*2, b.max)
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// reset makes the next attempt immediate again.
func (b *backoff) reset() { b.cur = 0 }
