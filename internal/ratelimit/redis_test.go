package ratelimit

import (
	"context"
	"testing"
	"time"
)

func TestRedis(t *testing.T) {
	t.Parallel()
	opts, prefix := setupRedis(t)
	client := newRedisClient(t, opts)
	exercise(t, harness{
		newLimiter: func(*testing.T) Limiter { return NewRedis(client, prefixed(prefix)) },
		sleep:      time.Sleep,
		short:      Rate{5, 2 * time.Second},
		tolerance:  100 * time.Millisecond,
	})
}

func TestRedisInstancesShareBudget(t *testing.T) {
	t.Parallel()
	opts, prefix := setupRedis(t)
	a := NewRedis(newRedisClient(t, opts), prefix)
	b := NewRedis(newRedisClient(t, opts), prefix)
	r, allowed := Rate{5, time.Minute}, 0
	for i := range 10 {
		l := a
		if i%2 == 1 {
			l = b
		}
		if allow(t, l, "shared", r).Allowed {
			allowed++
		}
	}
	if allowed != 5 {
		t.Fatalf("two instances allowed %d of 10, want 5", allowed)
	}
}

func TestRedisKeyExpiresWhenFull(t *testing.T) {
	t.Parallel()
	opts, prefix := setupRedis(t)
	client := newRedisClient(t, opts)
	l, r := NewRedis(client, prefix), Rate{5, time.Minute}
	countAllowed(t, l, "k", r, 2)
	key := l.Key("k", r)
	if want := prefix + "k:5/min"; key != want {
		t.Fatalf("Key = %q, want %q", key, want)
	}
	ttl, err := client.PTTL(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	near(t, "PTTL after 2 of 5", ttl, 24*time.Second, 200*time.Millisecond)

	short := Rate{2, 200 * time.Millisecond}
	allow(t, l, "s", short)
	time.Sleep(300 * time.Millisecond)
	if n := keyCount(t, client, l.Key("s", short)); n != 0 {
		t.Fatalf("bucket key still exists after the bucket refilled")
	}
}

func TestRedisLongRate(t *testing.T) {
	t.Parallel()
	opts, prefix := setupRedis(t)
	l, r := NewRedis(newRedisClient(t, opts), prefix), Rate{7, time.Hour}
	if n := countAllowed(t, l, "k", r, 8); n != 7 {
		t.Fatalf("%d of 8 allowed, want 7", n)
	}
	d := allow(t, l, "k", r)
	near(t, "RetryAfter", d.RetryAfter, r.interval(), 100*time.Millisecond)
	near(t, "ResetAfter", d.ResetAfter, r.interval()*7, 100*time.Millisecond)
}
