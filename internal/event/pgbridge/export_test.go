package pgbridge

import (
	"context"
	"time"

	"github.com/gathering/gathering/internal/event"
)

// SetBeforeDial makes every connection attempt of the listener call f
// first and fail with its error, if any. Call it before Start.
func SetBeforeDial(b *Bridge, f func() error) { b.beforeDial = f }

// Purge runs one purge of stored payloads older than ttl now.
func Purge(ctx context.Context, b *Bridge, ttl time.Duration) (int64, error) {
	return purge(ctx, b.pool.Load(), ttl)
}

// MaxInline is the largest payload sent inside a notification.
const MaxInline = maxInline

// Encode and Decode expose the wire format.
var (
	Encode = encode
	Decode = func(s string) (event.Event, error) { m, err := decode(s); return m.event(), err }
)

// Backoff returns the first n waits of a fresh backoff from min to max.
func Backoff(min, max time.Duration, n int) []time.Duration {
	b := newBackoff(min, max)
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = b.next()
	}
	return out
}
