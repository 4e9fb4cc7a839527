package startstop

import (
	"context"
	"errors"
	"sync"
)

// ErrRunning is what Loop.Start answers while its goroutine runs.
var ErrRunning = errors.New("already started")

// Loop owns one background goroutine between Start and Stop: the plumbing
// every component with a run loop shares. The zero value is ready to use.
type Loop struct {
	mu     sync.Mutex
	cancel context.CancelFunc // nil unless running
	done   chan struct{}      // closed when run returns
}

// Start launches run in a goroutine. Its context keeps ctx's values but not
// its cancellation: it ends only with Stop. Starting a running Loop is
// ErrRunning.
func (l *Loop) Start(ctx context.Context, run func(ctx context.Context)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done != nil {
		return ErrRunning
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	l.cancel, l.done = cancel, done
	go func() {
		defer close(done)
		run(runCtx)
	}()
	return nil
}

// Stop cancels the goroutine's context and waits for it to return, giving
// up when ctx ends. Stopping a Loop that is not running does nothing.
func (l *Loop) Stop(ctx context.Context) error {
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.cancel, l.done = nil, nil
	l.mu.Unlock()
	if done == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
