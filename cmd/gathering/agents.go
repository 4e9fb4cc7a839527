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
	"github.com/gathering/gathering/internal/memory"
	"github.com/gathering/gathering/internal/sealer"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// newAgents seeds the catalog and builds the agent service: provider
// clients with keys sealed by the configured key, breaker changes
// published as provider.breaker events, and chat turns recalling memories
// with the embedder GATHERING_EMBEDDER names, which it returns for the API.
func newAgents(ctx context.Context, cfg *config.Config, db store.Store, tools *tool.Executor, bus *event.Bus, log *slog.Logger, getenv func(string) string) (*agent.Service, *sealer.Sealer, memory.Embedder, error) {
	onBreaker := func(provider, from, to string) {
		// This runs under the breaker's lock. Publishing never waits for
		// subscribers; on PostgreSQL it sends one NOTIFY, bounded here so a
		// slow database cannot hold the lock for long. Changes are rare.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		publish(ctx, bus, log, event.Event{Type: "provider.breaker." + strings.ReplaceAll(to, "-", "_"), Topics: []string{"provider:" + provider}, Data: mustJSON(map[string]any{"provider": provider, "from": from, "to": to})})
	}
	providers, seal, err := newProviders(ctx, cfg, db, log, getenv, onBreaker)
	if err != nil {
		return nil, nil, nil, err
	}
	emb, err := newEmbedder(cfg, providers)
	if err != nil {
		return nil, nil, nil, err
	}
	recaller := memory.AgentRecaller{Store: db, Embedder: emb}
	return agent.NewService(db, providers, tools, recaller, bus, agent.Options{Instance: bus.Instance(), MaxRounds: cfg.AgentMaxRounds}), seal, emb, nil
}

// newProviders seeds the catalog and builds the provider clients, with
// keys sealed by the configured key; onBreaker, if set, hears each change
// of a provider's circuit breaker.
func newProviders(ctx context.Context, cfg *config.Config, db store.Store, log *slog.Logger, getenv func(string) string, onBreaker func(provider, from, to string)) (*agent.Providers, *sealer.Sealer, error) {
	seal, err := sealer.New(cfg.EncryptionKey, cfg.SecretKey)
	if err != nil {
		return nil, nil, err
	}
	if n, err := catalog.Seed(ctx, db, time.Now()); err != nil {
		return nil, nil, fmt.Errorf("seed the catalog: %w", err)
	} else if n > 0 {
		log.Info("catalog seeded", "added", n)
	}
	return agent.NewProviders(agent.ProvidersConfig{
		Store: db, Sealer: seal, Getenv: getenv,
		HTTPClient: &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: 5 * time.Minute, IdleConnTimeout: 90 * time.Second}},
		Resilience: llm.ResilienceOptions{OnStateChange: onBreaker},
	}), seal, nil
}

// newEmbedder builds the embedder GATHERING_EMBEDDER names: the local one,
// or a catalog provider's, looked up at each use so that a missing key
// fails that use (503), not the start.
func newEmbedder(cfg *config.Config, providers *agent.Providers) (memory.Embedder, error) {
	spec, err := config.ParseEmbedder(cfg.Embedder)
	if err != nil {
		return nil, fmt.Errorf("GATHERING_EMBEDDER: %w", err)
	}
	if spec.Provider == "" {
		return memory.NewLocal(0), nil
	}
	return memory.NewLazyProvider(providers.Get, spec.Provider, spec.Model, spec.Dimension)
}
