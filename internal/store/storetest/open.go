package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/pgstore"
	"github.com/gathering/gathering/internal/store/pgtest"
	"github.com/gathering/gathering/internal/store/sqlitestore"
)

// SQLite opens a migrated SQLite store in a temporary directory for the
// tests of the packages built on the store; it is closed when the test
// ends.
func SQLite(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "test.db")})
	if err != nil {
		t.Fatal(err)
	}
	return migrate(t, st)
}

// Postgres opens a migrated PostgreSQL store in a fresh schema (see
// pgtest.URL); it is closed when the test ends.
func Postgres(t testing.TB) store.Store {
	t.Helper()
	st, err := pgstore.Open(context.Background(), pgstore.Config{URL: pgtest.URL(t), MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	return migrate(t, st)
}

func migrate(t testing.TB, st store.Store) store.Store {
	t.Helper()
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}
