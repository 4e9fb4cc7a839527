// Package agenttest has helpers for tests that need agents answering
// through the openaitest fake provider: starting the services of a test rig
// (and stopping them when the test ends), storing the fake provider, its
// model, agents and users, building the agent service that calls the fake,
// and polling until a condition holds.
//
// A rig typically starts a bus and a tool executor with [Start], calls
// [Seed] with the fake's URL, creates its agents with [Agent] and its users
// with [User], and builds the agent service with [NewService].
package agenttest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/catalog"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/sealer"
	"github.com/gathering/gathering/internal/startstop"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

const (
	// provider and model are the names Seed stores the fake provider and
	// its model under, and the ones Agent gives every agent.
	provider = "fake"
	model    = "fake-1"
	// stopTimeout bounds how long the services Start started may take, in
	// all, to stop when the test ends.
	stopTimeout = 10 * time.Second
	// pollEvery is how often Eventually checks its condition.
	pollEvery = 10 * time.Millisecond
)

// Start starts services in order, failing the test when one does not
// start, and stops them in reverse order when the test ends, reporting
// each failure to stop (giving them 10 s in all).
func Start(t testing.TB, services ...startstop.Service) {
	t.Helper()
	for _, s := range services {
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		for i := len(services) - 1; i >= 0; i-- {
			if err := services[i].Stop(ctx); err != nil {
				t.Errorf("stop: %v", err)
			}
		}
	})
}

// Seed stores the catalog, the OpenAI-compatible provider "fake" at
// fakeURL (the fake's Server.URL) and its model "fake-1": a 16,000-token
// context, 1,000 tokens out at most, priced 2 per million tokens in and 8
// out, with tools. Each tune, in order, changes the model before it is
// stored.
func Seed(t testing.TB, db store.Store, fakeURL string, tune ...func(*store.Model)) {
	t.Helper()
	ctx, now := context.Background(), time.Now()
	if _, err := catalog.Seed(ctx, db, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ProviderPut(ctx, store.Provider{Name: provider, Kind: store.KindOpenAI, BaseURL: fakeURL, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	m := store.Model{Provider: provider, Name: model, ContextWindow: 16000, MaxOutput: 1000,
		PriceInput: 2, PriceOutput: 8, Tools: true, CreatedAt: now, UpdatedAt: now}
	for _, f := range tune {
		f(&m)
	}
	if _, err := db.ModelPut(ctx, m); err != nil {
		t.Fatal(err)
	}
}

// Agent creates an agent from a (its name, competencies, review right, …)
// on the model Seed stored, with the first persona of the catalog unless
// a names one and 500 tokens out unless it says otherwise, enables skills
// for it, and returns its id.
func Agent(t testing.TB, db store.Store, a store.Agent, skills ...string) int64 {
	t.Helper()
	ctx, now := context.Background(), time.Now()
	if a.PersonaID == 0 {
		ps, _, err := db.PersonaList(ctx, store.Page{Limit: 1})
		if err != nil || len(ps) == 0 {
			t.Fatalf("personas: %v", err)
		}
		a.PersonaID = ps[0].ID
	}
	if a.MaxTokens == 0 {
		a.MaxTokens = 500
	}
	a.Provider, a.Model, a.CreatedAt, a.UpdatedAt = provider, model, now, now
	created, err := db.AgentCreate(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(skills) > 0 {
		if err := db.AgentSkillsEnable(ctx, created.ID, skills, now); err != nil {
			t.Fatal(err)
		}
	}
	return created.ID
}

// User creates an active user called name with role, under an email of
// its own (name, lowercased, and a unique suffix), and returns its id.
func User(t testing.TB, db store.Store, name string, role gathering.Role) int64 {
	t.Helper()
	now := time.Now()
	email := strings.ToLower(name + "-" + event.NewID(now) + "@example.com")
	u, err := db.UserCreate(context.Background(), store.UserCreateParams{Email: email, Name: name,
		Role: role, PasswordHash: "x", IsActive: true, At: now})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// NewService returns an agent service of instance "test" on db whose
// tools run through exec and whose provider calls go through client (nil:
// the default client), retried after a millisecond or two, so that a
// scripted failure costs a test no time. Keys are sealed with a fixed
// test secret; none is read from the environment.
func NewService(t testing.TB, db store.Store, exec *tool.Executor, client *http.Client) *agent.Service {
	t.Helper()
	seal, err := sealer.New("", strings.Repeat("s", 40))
	if err != nil {
		t.Fatal(err)
	}
	providers := agent.NewProviders(agent.ProvidersConfig{Store: db, Sealer: seal, Getenv: func(string) string { return "" },
		HTTPClient: client, Resilience: llm.ResilienceOptions{InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}})
	return agent.NewService(db, providers, exec, nil, nil, agent.Options{Instance: "test"})
}

// Chats returns the chat requests fake received, oldest first (the
// requests to other endpoints, like embeddings, left out).
func Chats(fake *openaitest.Server) []openaitest.Request {
	var out []openaitest.Request
	for _, req := range fake.Requests() {
		if strings.HasSuffix(req.Path, "/chat/completions") {
			out = append(out, req)
		}
	}
	return out
}

// AwaitChats waits until fake received n chat requests, failing the test
// after limit.
func AwaitChats(t testing.TB, fake *openaitest.Server, n int, limit time.Duration) {
	t.Helper()
	if !Eventually(limit, func() bool { return len(Chats(fake)) >= n }) {
		t.Fatalf("%d chat requests after %s, want %d", len(Chats(fake)), limit, n)
	}
}

// Eventually checks cond every 10 ms until it holds and reports whether it
// did, giving up (false) at the first check after limit has passed.
// Callers fail their test with what they waited for.
func Eventually(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollEvery)
	}
	return true
}
