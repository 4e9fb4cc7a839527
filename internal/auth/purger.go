package auth

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gathering/gathering/internal/startstop"
)

// Purger returns a background component that deletes expired revocations
// every Config.PurgeInterval. It follows the startstop contract: Start
// launches one goroutine, Stop ends it and waits for it.
func (s *Service) Purger() startstop.Service {
	return &purger{svc: s, interval: s.cfg.PurgeInterval}
}

// purger is the component behind Service.Purger.
type purger struct {
	svc      *Service
	interval time.Duration
	loop     startstop.Loop
}

// Start launches the purge loop, which runs until Stop.
func (p *purger) Start(ctx context.Context) error {
	if err := p.loop.Start(ctx, p.run); err != nil {
		return fmt.Errorf("revocation purger: %w", err)
	}
	return nil
}

// Stop ends the loop and waits for it, giving up when ctx ends. Stopping a
// purger that is not running does nothing.
func (p *purger) Stop(ctx context.Context) error { return p.loop.Stop(ctx) }

// run purges on every tick until ctx ends.
func (p *purger) run(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.purge(ctx)
		}
	}
}

// purge runs one purge and logs the outcome.
func (p *purger) purge(ctx context.Context) {
	n, err := p.svc.PurgeRevocations(ctx)
	if err != nil && ctx.Err() == nil {
		p.svc.log.WarnContext(ctx, "revocation purge failed", slog.Any("error", err))
		return
	}
	if n > 0 {
		p.svc.log.DebugContext(ctx, "expired revocations purged", slog.Int("count", n))
	}
}
