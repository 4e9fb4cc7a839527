package memory

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/pgstore"
	"github.com/gathering/gathering/internal/store/pgtest"
	"github.com/gathering/gathering/internal/store/sqlitestore"
)

// backend opens a fresh, migrated store of one kind.
type backend struct {
	name string
	open func(testing.TB) store.Store
}

// backends are the storage backends every store-backed test runs on.
var backends = []backend{{"sqlite", sqliteStore}, {"postgres", postgresStore}}

// sqliteStore opens a migrated SQLite store in a temporary directory.
func sqliteStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "m.db")})
	if err != nil {
		t.Fatal(err)
	}
	return migrated(t, st)
}

// postgresStore opens a migrated PostgreSQL store in a fresh schema.
func postgresStore(t testing.TB) store.Store {
	t.Helper()
	st, err := pgstore.Open(context.Background(), pgstore.Config{URL: pgtest.URL(t), MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	return migrated(t, st)
}

func migrated(t testing.TB, st store.Store) store.Store {
	t.Helper()
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

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
