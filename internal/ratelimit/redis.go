package ratelimit

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed gcra.lua
var gcraLua string

// Redis is a Limiter that keeps its state in Redis, so that every instance
// sharing the server and the prefix shares one budget per key. Each decision
// is one atomic script call timed by the Redis server's clock, so instances
// with skewed clocks agree. A bucket's key expires once the bucket is full
// again.
//
// go-redis applies a context's deadline to socket reads and writes only when
// the client's options set ContextTimeoutEnabled; set it so that short
// per-call timeouts (as in Fallback) hold.
type Redis struct {
	client redis.UniversalClient
	prefix string
	script *redis.Script
}

// NewRedis returns a Redis limiter on client whose keys start with prefix.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix, script: redis.NewScript(gcraLua)}
}

// Allow counts one request under key at rate r.
func (l *Redis) Allow(ctx context.Context, key string, r Rate) (Decision, error) {
	if err := r.Validate(); err != nil {
		return Decision{}, err
	}
	keys := []string{l.Key(key, r)}
	res, err := l.script.Run(ctx, l.client, keys, r.interval().Microseconds(), r.Count).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(res) != 4 {
		return Decision{}, fmt.Errorf("ratelimit: redis: script returned %d values, want 4", len(res))
	}
	c := cell{allowed: res[0] == 1, remaining: res[1], resetAfter: res[2], retryAfter: res[3]}
	return c.decision(r.Count, time.Microsecond), nil
}

// Key returns the Redis key of the bucket for key at rate r: the prefix, the
// key, a colon and the rate, as in "rl:login:alice:5/min".
func (l *Redis) Key(key string, r Rate) string {
	return l.prefix + key + ":" + r.String()
}

// Ping checks that Redis answers.
func (l *Redis) Ping(ctx context.Context) error {
	return l.client.Ping(ctx).Err()
}
