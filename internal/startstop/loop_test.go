package startstop

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLoopRunsUntilStop(t *testing.T) {
	var l Loop
	if err := l.Stop(t.Context()); err != nil {
		t.Fatalf("Stop before Start: %v", err)
	}
	started := make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	if err := l.Start(ctx, func(ctx context.Context) { close(started); <-ctx.Done() }); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := l.Start(t.Context(), func(context.Context) {}); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Start: %v", err)
	}
	cancel() // the caller's cancellation does not stop the loop
	if err := l.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := l.Start(t.Context(), func(context.Context) {}); err != nil {
		t.Fatalf("Start after Stop: %v", err)
	}
	if err := l.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestLoopStopGivesUp(t *testing.T) {
	var l Loop
	release := make(chan struct{})
	l.Start(t.Context(), func(context.Context) { <-release })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := l.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop of a stuck loop: %v", err)
	}
	close(release)
}
