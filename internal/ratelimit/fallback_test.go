package ratelimit

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// fallbackSetup is what a Fallback test works with.
type fallbackSetup struct {
	f      *Fallback
	proxy  *proxy
	logs   *logRecorder
	direct *Redis // the same keys, not through the proxy
}

// setupFallback starts a Fallback whose Redis client goes through a proxy,
// pinging every 50 ms; it is stopped at cleanup.
func setupFallback(t *testing.T) fallbackSetup {
	t.Helper()
	opts, prefix := setupRedis(t)
	p := newProxy(t, opts.Addr)
	viaProxy := *opts
	viaProxy.Addr = p.addr
	logs := &logRecorder{}
	f := NewFallback(NewRedis(newRedisClient(t, &viaProxy), prefix), NewMemory(0, nil),
		slog.New(logs), FallbackConfig{CallTimeout: 200 * time.Millisecond, PingInterval: 50 * time.Millisecond})
	if err := f.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return fallbackSetup{f: f, proxy: p, logs: logs, direct: NewRedis(newRedisClient(t, opts), prefix)}
}

// waitMode waits up to 2 s (40 ping intervals) for mode.
func waitMode(t *testing.T, f *Fallback, mode string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); f.Mode() != mode; {
		if time.Now().After(deadline) {
			t.Fatalf("Mode = %q after 2 s, want %q", f.Mode(), mode)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// inRedis reports whether the bucket of key at r already held a request in
// Redis, by counting one more there directly.
func (s fallbackSetup) inRedis(t *testing.T, key string, r Rate) bool {
	t.Helper()
	d := allow(t, s.direct, key, r)
	return d.Remaining < r.Count-1
}

func TestFallbackCutAndRestore(t *testing.T) {
	t.Parallel()
	s, r := setupFallback(t), Rate{100, time.Minute}
	if d := allow(t, s.f, "before", r); !d.Allowed || s.f.Mode() != ModeRedis || !s.inRedis(t, "before", r) {
		t.Fatalf("before the cut: %+v in mode %s, want allowed from redis", d, s.f.Mode())
	}

	s.proxy.Cut()
	for range 5 {
		if d := allow(t, s.f, "during", r); !d.Allowed {
			t.Fatalf("during the cut: %+v, want allowed from memory", d)
		}
	}
	if s.f.Mode() != ModeMemory || s.inRedis(t, "during", r) {
		t.Fatalf("during the cut: mode %s, want memory and nothing in redis", s.f.Mode())
	}
	if n := s.logs.count(slog.LevelWarn, "rate limits fall back to memory"); n != 1 {
		t.Fatalf("%d fallback warnings, want 1", n)
	}

	s.proxy.Restore()
	waitMode(t, s.f, ModeRedis)
	if d := allow(t, s.f, "after", r); !d.Allowed || !s.inRedis(t, "after", r) {
		t.Fatalf("after the restore: %+v, want allowed from redis", d)
	}
	if n := s.logs.count(slog.LevelInfo, "rate limits use redis again"); n != 1 {
		t.Fatalf("%d recovery infos, want 1", n)
	}
}

func TestFallbackHangingRedisTimesOut(t *testing.T) {
	t.Parallel()
	s, r := setupFallback(t), Rate{100, time.Minute}
	allow(t, s.f, "k", r)
	s.proxy.Hang()
	start := time.Now()
	d := allow(t, s.f, "k", r)
	// The call timeout is 200 ms and go-redis's own read timeout 3 s: an
	// answer within a second shows the call timeout holds.
	if elapsed := time.Since(start); !d.Allowed || elapsed > time.Second {
		t.Fatalf("with Redis hanging: %+v after %v, want allowed within the call timeout", d, elapsed)
	}
	if s.f.Mode() != ModeMemory {
		t.Fatalf("Mode = %q, want memory", s.f.Mode())
	}
	s.proxy.Restore()
	waitMode(t, s.f, ModeRedis)
}

func TestFallbackConcurrentFailuresWarnOnce(t *testing.T) {
	t.Parallel()
	s, r := setupFallback(t), Rate{100, time.Minute}
	s.proxy.Cut()
	testConcurrentAllowed(t, s.f, r)
	if n := s.logs.count(slog.LevelWarn, "rate limits fall back to memory"); n != 1 {
		t.Fatalf("%d fallback warnings, want 1", n)
	}
}

// testConcurrentAllowed makes 20 concurrent calls that must all be allowed.
func testConcurrentAllowed(t *testing.T, l Limiter, r Rate) {
	t.Helper()
	done := make(chan Decision)
	for range 20 {
		go func() { done <- allow(t, l, "k", r) }()
	}
	for range 20 {
		if d := <-done; !d.Allowed {
			t.Errorf("concurrent call: %+v, want allowed", d)
		}
	}
}

func TestFallbackLifecycle(t *testing.T) {
	t.Parallel()
	f := NewFallback(nil, NewMemory(0, nil), nil, FallbackConfig{})
	if f.cfg.CallTimeout != 200*time.Millisecond || f.cfg.PingInterval != 2*time.Second {
		t.Fatalf("defaults = %+v, want 200ms and 2s", f.cfg)
	}
	if err := f.Stop(t.Context()); err != nil {
		t.Fatalf("Stop before Start: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	if err := f.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Start(ctx); err == nil {
		t.Fatal("second Start: no error")
	}
	cancel() // the start context ending does not stop the goroutine
	for range 2 {
		if err := f.Stop(t.Context()); err != nil {
			t.Fatalf("Stop: %v", err)
		}
	}
	if err := f.Start(t.Context()); err != nil {
		t.Fatalf("Start after Stop: %v", err)
	}
	if err := f.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestFallbackCallerCancel(t *testing.T) {
	t.Parallel()
	s := setupFallback(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.f.Allow(ctx, "k", Rate{5, time.Minute}); err == nil {
		t.Fatal("Allow with a cancelled context: no error")
	}
	if s.f.Mode() != ModeRedis {
		t.Fatalf("a cancelled caller switched the mode to %s", s.f.Mode())
	}
}
