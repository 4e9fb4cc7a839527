package sqlitestore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/sqlitestore"
	"github.com/gathering/gathering/internal/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// open opens a store on path and closes it when the test ends.
func open(t *testing.T, path string) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(t.Context(), sqlitestore.Config{Path: path})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T) store.Store {
		s, err := sqlitestore.Open(t.Context(), sqlitestore.Config{Path: filepath.Join(t.TempDir(), "gathering.db")})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	}, exec)
}

// exec runs raw SQL on the writer of a sqlitestore for the conformance suite.
func exec(ctx context.Context, s store.Store, sql string) error {
	write, _ := sqlitestore.Pools(s.(*sqlitestore.Store))
	_, err := write.ExecContext(ctx, sql)
	return err
}

func TestSecondOpenIsRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data", "gathering.db")
	first, err := sqlitestore.Open(t.Context(), sqlitestore.Config{Path: path})
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	_, err = sqlitestore.Open(t.Context(), sqlitestore.Config{Path: path})
	if code := gathering.ErrorCode(err); code != gathering.EUNAVAILABLE || !strings.Contains(gathering.ErrorMessage(err), "locked") {
		t.Fatalf("second Open: code %q (%v), want %q saying the file is locked", code, err, gathering.EUNAVAILABLE)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	open(t, path) // the lock went with Close
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	write, read := sqlitestore.Pools(open(t, filepath.Join(t.TempDir(), "gathering.db")))
	want := map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000", "synchronous": "1"}
	for pool, db := range map[string]*sql.DB{"write": write, "read": read} {
		for pragma, value := range want {
			var got string
			if err := db.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil || got != value {
				t.Errorf("%s pool: PRAGMA %s = %q, %v; want %q", pool, pragma, got, err, value)
			}
		}
	}
}

func TestReadPoolCannotWrite(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "gathering.db"))
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	_, read := sqlitestore.Pools(s)
	_, err := read.ExecContext(t.Context(), `INSERT INTO gathering_meta (key, value) VALUES ('k', 'v')`)
	if err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("INSERT on the read pool: %v, want a readonly error", err)
	}
	if st := s.Stats(); st.MaxConns != 5 {
		t.Errorf("MaxConns = %d, want 1 writer + 4 readers", st.MaxConns)
	}
}

// TestBusyIsUnavailable holds the write lock from a connection outside the
// store (as a misbehaving tool would) and checks that a write which outwaits
// BusyTimeout fails with EUNAVAILABLE.
func TestBusyIsUnavailable(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gathering.db")
	s, err := sqlitestore.Open(t.Context(), sqlitestore.Config{Path: path, BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	other, err := sql.Open("sqlite", path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	tx, err := other.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatalf("BEGIN IMMEDIATE outside the store: %v", err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	_, err = s.MetaPut(t.Context(), "k", "v")
	if code := gathering.ErrorCode(err); code != gathering.EUNAVAILABLE {
		t.Errorf("MetaPut while another connection writes: code %q (%v), want %q", code, err, gathering.EUNAVAILABLE)
	}
}
