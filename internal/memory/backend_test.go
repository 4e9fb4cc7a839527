package memory

import (
	"context"
	"testing"

	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
)

// backend opens a fresh, migrated store of one kind.
type backend struct {
	name string
	open func(testing.TB) store.Store
}

// backends are the storage backends every store-backed test runs on.
var backends = []backend{{"sqlite", sqliteStore}, {"postgres", postgresStore}}

// sqliteStore and postgresStore open migrated stores of each backend.
var (
	sqliteStore   = storetest.SQLite
	postgresStore = storetest.Postgres
)

// eachBackend runs fn as a parallel subtest on every backend.
func eachBackend(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.open(t))
		})
	}
}

// remember stores texts as memories of one agent and returns them.
func remember(t testing.TB, st Store, emb Embedder, agent int64, texts ...string) []store.Memory {
	t.Helper()
	ms := make([]store.Memory, len(texts))
	for i, text := range texts {
		ms[i] = store.Memory{Scope: store.ScopeAgent, AgentID: agent, Type: store.MemoryFact, Content: text}
	}
	out, err := Remember(context.Background(), st, emb, ms)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// agentFilter selects one agent's memories.
func agentFilter(agent int64) store.MemoryFilter {
	return store.MemoryFilter{Scope: store.ScopeAgent, AgentID: agent}
}
