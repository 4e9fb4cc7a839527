package agent

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/anthropic"
	"github.com/gathering/gathering/internal/llm/openai"
	"github.com/gathering/gathering/internal/sealer"
	"github.com/gathering/gathering/internal/store"
)

// CredentialStore is where sealed provider keys and providers are kept.
type CredentialStore interface {
	ProviderGet(ctx context.Context, name string) (store.Provider, error)
	CredentialGet(ctx context.Context, provider string) (store.Credential, error)
}

// ProvidersConfig configures the provider clients.
type ProvidersConfig struct {
	Store  CredentialStore
	Sealer *sealer.Sealer
	// Getenv reads the environment variables that may hold keys
	// (OPENAI_API_KEY, …).
	Getenv func(string) string
	// HTTPClient carries provider calls; providers are configured by
	// administrators, so it need not refuse internal addresses (Ollama runs
	// on loopback).
	HTTPClient *http.Client
	// Resilience tunes retries, concurrency and the breaker of each provider.
	Resilience llm.ResilienceOptions
}

// Providers builds, caches and hands out provider clients, each wrapped in
// the resilience layer. A client is rebuilt when its key or endpoint
// changes. It is safe for concurrent use.
type Providers struct {
	cfg ProvidersConfig

	mu      sync.Mutex
	clients map[string]cachedClient
}

type cachedClient struct {
	key, baseURL string
	provider     llm.Provider
}

// NewProviders returns an empty cache of provider clients.
func NewProviders(cfg ProvidersConfig) *Providers {
	return &Providers{cfg: cfg, clients: map[string]cachedClient{}}
}

// Get returns the client of provider name. A provider that needs a key and
// has none fails with EUNAVAILABLE naming what to configure: an agent never
// gets a stand-in answer.
func (p *Providers) Get(ctx context.Context, name string) (llm.Provider, error) {
	prov, err := p.cfg.Store.ProviderGet(ctx, name)
	if err != nil {
		return nil, err
	}
	key, err := p.key(ctx, prov)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[name]; ok && c.key == key && c.baseURL == prov.BaseURL {
		return c.provider, nil
	}
	client := llm.Resilient(p.build(prov, key), p.cfg.Resilience)
	p.clients[name] = cachedClient{key: key, baseURL: prov.BaseURL, provider: client}
	return client, nil
}

// key returns the provider's key: the one set through the API, else its
// environment variable. Only a provider with a key variable, or any
// Anthropic provider, needs one.
func (p *Providers) key(ctx context.Context, prov store.Provider) (string, error) {
	cred, err := p.cfg.Store.CredentialGet(ctx, prov.Name)
	switch {
	case err == nil:
		key, err := p.cfg.Sealer.Open(cred.Sealed, prov.Name)
		if err != nil {
			return "", gathering.Errorf(gathering.EUNAVAILABLE, "The stored API key of the provider %q cannot be decrypted (was the encryption key changed?); set it again with PUT /settings/providers/%s.", prov.Name, prov.Name)
		}
		return string(key), nil
	case gathering.ErrorCode(err) != gathering.ENOTFOUND:
		return "", err
	}
	if prov.KeyEnv != "" {
		if key := p.cfg.Getenv(prov.KeyEnv); key != "" {
			return key, nil
		}
	}
	if prov.KeyEnv != "" || prov.Kind == store.KindAnthropic {
		return "", missingKey(prov)
	}
	return "", nil
}

func missingKey(prov store.Provider) error {
	msg := "The provider %q has no API key: set it with PUT /settings/providers/%s"
	if prov.KeyEnv != "" {
		return gathering.Errorf(gathering.EUNAVAILABLE, msg+" or the environment variable %s.", prov.Name, prov.Name, prov.KeyEnv)
	}
	return gathering.Errorf(gathering.EUNAVAILABLE, msg+".", prov.Name, prov.Name)
}

func (p *Providers) build(prov store.Provider, key string) llm.Provider {
	if prov.Kind == store.KindAnthropic {
		return anthropic.New(anthropic.Config{Name: prov.Name, BaseURL: prov.BaseURL, APIKey: key, HTTPClient: p.cfg.HTTPClient})
	}
	return openai.New(openai.Config{Name: prov.Name, BaseURL: prov.BaseURL, APIKey: key, HTTPClient: p.cfg.HTTPClient})
}

// BreakerState is the circuit breaker of one provider client.
type BreakerState struct {
	Provider string `json:"provider"`
	State    string `json:"state" enum:"closed,open,half-open"`
}

// Breakers reports the breaker of every provider client built so far, by
// provider name.
func (p *Providers) Breakers() []BreakerState {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]BreakerState, 0, len(p.clients))
	for name, c := range p.clients {
		if r, ok := c.provider.(llm.BreakerReporter); ok {
			out = append(out, BreakerState{Provider: name, State: r.BreakerState()})
		}
	}
	slices.SortFunc(out, func(a, b BreakerState) int { return strings.Compare(a.Provider, b.Provider) })
	return out
}
