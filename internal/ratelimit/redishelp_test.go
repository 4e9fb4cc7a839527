package ratelimit

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testRedisURL is the Redis the tests use.
func testRedisURL() string {
	return cmp.Or(os.Getenv("GATHERING_TEST_REDIS_URL"), "redis://127.0.0.1:6379/0")
}

// setupRedis checks that the test Redis answers (failing the test when it
// does not) and returns its options and a fresh key prefix whose keys are
// deleted at cleanup.
func setupRedis(tb testing.TB) (*redis.Options, string) {
	tb.Helper()
	opts, err := redis.ParseURL(testRedisURL())
	if err != nil {
		tb.Fatalf("GATHERING_TEST_REDIS_URL %q: %v", testRedisURL(), err)
	}
	opts.ContextTimeoutEnabled = true
	admin := newRedisClient(tb, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := admin.Ping(ctx).Err(); err != nil {
		tb.Fatalf("Redis at %s does not answer (start it or set GATHERING_TEST_REDIS_URL): %v", testRedisURL(), err)
	}
	prefix := "gathering-test:ratelimit:" + rand.Text()[:12] + ":"
	tb.Cleanup(func() { deleteKeys(tb, admin, prefix) })
	return opts, prefix
}

// newRedisClient returns a client on opts that is closed at cleanup.
func newRedisClient(tb testing.TB, opts *redis.Options) *redis.Client {
	c := redis.NewClient(opts)
	tb.Cleanup(func() { c.Close() })
	return c
}

// deleteKeys deletes every key starting with prefix.
func deleteKeys(tb testing.TB, c *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Errorf("delete test keys %s*: %v", prefix, err)
	}
}

// keyCount returns how many keys start with prefix.
func keyCount(tb testing.TB, c *redis.Client, prefix string) int {
	tb.Helper()
	keys, err := c.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		tb.Fatalf("KEYS %s*: %v", prefix, err)
	}
	return len(keys)
}

// prefixed returns a fresh prefix inside prefix, for one limiter of a test.
func prefixed(prefix string) string {
	return fmt.Sprintf("%s%s:", prefix, rand.Text()[:8])
}
