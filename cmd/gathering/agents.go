package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/catalog"
	"github.com/gathering/gathering/internal/config"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/sealer"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// newAgents seeds the catalog and builds the agent service: provider
// clients with keys sealed by the configured key, and breaker changes
// published as provider.breaker events.
func newAgents(ctx context.Context, cfg *config.Config, db store.Store, tools *tool.Executor, bus *event.Bus, log *slog.Logger, getenv func(string) string) (*agent.Service, *sealer.Sealer, error) {
	seal, err := sealer.New(cfg.EncryptionKey, cfg.SecretKey)
	if err != nil {
		return nil, nil, err
	}
	if n, err := catalog.Seed(ctx, db, time.Now()); err != nil {
		return nil, nil, fmt.Errorf("seed the catalog: %w", err)
	} else if n > 0 {
		log.Info("catalog seeded", "added", n)
	}
	providers := agent.NewProviders(agent.ProvidersConfig{
		Store: db, Sealer: seal, Getenv: getenv,
		HTTPClient: &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: 5 * time.Minute, IdleConnTimeout: 90 * time.Second}},
		Resilience: llm.ResilienceOptions{OnStateChange: func(provider, from, to string) {
			// Publish never waits for subscribers, so it is quick enough for
			// the breaker's lock.
			publish(context.Background(), bus, log, event.Event{Type: "provider.breaker." + strings.ReplaceAll(to, "-", "_"), Topics: []string{"provider:" + provider}, Data: mustJSON(map[string]any{"provider": provider, "from": from, "to": to})})
		}},
	})
	return agent.NewService(db, providers, tools, nil, bus, agent.Options{}), seal, nil
}
