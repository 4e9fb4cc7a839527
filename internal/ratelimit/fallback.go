package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gathering/gathering/internal/startstop"
)

var _ startstop.Service = (*Fallback)(nil)

// Modes reported by Fallback.Mode.
const (
	ModeRedis  = "redis"
	ModeMemory = "memory"
)

// FallbackConfig tunes a Fallback. The zero value uses the defaults.
type FallbackConfig struct {
	// CallTimeout bounds each Redis call (default 200 ms).
	CallTimeout time.Duration
	// PingInterval is how often Redis is pinged while it is down (default
	// 2 s).
	PingInterval time.Duration
}

// Fallback is a Limiter that asks Redis and, when a Redis call fails, answers
// from Memory until Redis answers a ping again. Switching either way is
// logged once. Its background goroutine, which pings Redis while it is down,
// runs between Start and Stop; without it Fallback never returns to Redis.
// Budgets are not carried across a switch: each side keeps its own.
type Fallback struct {
	primary *Redis
	backup  *Memory
	log     *slog.Logger
	cfg     FallbackConfig
	down    atomic.Bool

	loop startstop.Loop // pings Redis while it is down
}

// NewFallback returns a Fallback over primary and backup that logs to logger
// (slog.Default when nil).
func NewFallback(primary *Redis, backup *Memory, logger *slog.Logger, cfg FallbackConfig) *Fallback {
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 200 * time.Millisecond
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 2 * time.Second
	}
	return &Fallback{primary: primary, backup: backup, log: logger, cfg: cfg}
}

// Allow counts one request under key at rate r, in Redis when it answers
// within the call timeout and in memory otherwise. It fails only for an
// invalid rate or when ctx ends.
func (f *Fallback) Allow(ctx context.Context, key string, r Rate) (Decision, error) {
	if err := r.Validate(); err != nil {
		return Decision{}, err
	}
	if !f.down.Load() {
		d, err := f.allowRedis(ctx, key, r)
		if err == nil {
			return d, nil
		}
		if ctx.Err() != nil {
			return Decision{}, fmt.Errorf("ratelimit: %w", context.Cause(ctx))
		}
		f.fallBack(err)
	}
	return f.backup.Allow(ctx, key, r)
}

// Mode reports where decisions come from: ModeRedis or ModeMemory.
func (f *Fallback) Mode() string {
	if f.down.Load() {
		return ModeMemory
	}
	return ModeRedis
}

// allowRedis asks Redis within the call timeout.
func (f *Fallback) allowRedis(ctx context.Context, key string, r Rate) (Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.CallTimeout)
	defer cancel()
	return f.primary.Allow(ctx, key, r)
}

// fallBack switches to memory, logging only the first of concurrent failures.
func (f *Fallback) fallBack(err error) {
	if f.down.CompareAndSwap(false, true) {
		f.log.Warn("rate limits fall back to memory", "error", err)
	}
}

// Start launches the goroutine that pings Redis while it is down. The
// goroutine runs until Stop; ctx's cancellation does not end it.
func (f *Fallback) Start(ctx context.Context) error {
	if err := f.loop.Start(ctx, f.run); err != nil {
		return fmt.Errorf("ratelimit: fallback %w", err)
	}
	return nil
}

// Stop ends the goroutine and waits for it, giving up when ctx ends. Stop
// without Start, or a second Stop, does nothing.
func (f *Fallback) Stop(ctx context.Context) error {
	if err := f.loop.Stop(ctx); err != nil {
		return fmt.Errorf("ratelimit: stop fallback: %w", err)
	}
	return nil
}

// run pings Redis every interval until ctx ends.
func (f *Fallback) run(ctx context.Context) {
	tick := time.NewTicker(f.cfg.PingInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			f.probe(ctx)
		}
	}
}

// probe pings Redis when it is down and switches back when it answers.
func (f *Fallback) probe(ctx context.Context) {
	if !f.down.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.CallTimeout)
	defer cancel()
	if f.primary.Ping(ctx) != nil {
		return
	}
	if f.down.CompareAndSwap(true, false) {
		f.log.Info("rate limits use redis again")
	}
}
