package pgstore_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/pgstore"
	"github.com/gathering/gathering/internal/store/pgtest"
	"github.com/gathering/gathering/internal/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func open(t *testing.T, dbURL string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(t.Context(), pgstore.Config{URL: dbURL, MaxConns: 4})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T) store.Store { return open(t, pgtest.URL(t)) }, exec)
}

// exec runs raw SQL on a pgstore for the conformance suite.
func exec(ctx context.Context, s store.Store, sql string) error {
	_, err := pgstore.PoolOf(s.(*pgstore.Store)).Exec(ctx, sql)
	return err
}

func TestConcurrentMigrate(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	const instances = 8
	stores := make([]*pgstore.Store, instances)
	for i := range stores {
		stores[i] = open(t, dbURL)
		t.Cleanup(func() { _ = stores[i].Close() })
	}
	start := make(chan struct{})
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			<-start
			_, errs[i] = s.Migrate(t.Context())
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: Migrate: %v", i, err)
		}
	}
	checkOneRowPerVersion(t, stores[0])
}

// checkOneRowPerVersion checks that every embedded migration is recorded as
// applied, once.
func checkOneRowPerVersion(t *testing.T, s *pgstore.Store) {
	t.Helper()
	states, err := s.MigrationStatus(t.Context())
	if err != nil {
		t.Fatalf("MigrationStatus: %v", err)
	}
	for _, m := range states {
		if m.Pending() || !m.Known {
			t.Errorf("migration %d: %+v, want applied", m.Version, m)
		}
	}
	var rows, versions int
	err = pgstore.PoolOf(s).QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions)
	if err != nil || rows != len(states) || versions != len(states) {
		t.Errorf("schema_migrations: %d rows, %d versions, %v; want %d of each", rows, versions, err, len(states))
	}
}

func TestRuntimeParams(t *testing.T) {
	t.Parallel()
	raw := pgtest.URL(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	s, err := pgstore.Open(t.Context(), pgstore.Config{URL: raw, StatementTimeout: 1500 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	want := map[string]string{"search_path": schema, "application_name": "gathering", "statement_timeout": "1500ms"}
	for name, value := range want {
		var got string
		if err := pgstore.PoolOf(s).QueryRow(t.Context(), "SELECT current_setting($1)", name).Scan(&got); err != nil || got != value {
			t.Errorf("%s = %q, %v; want %q", name, got, err, value)
		}
	}
	if st := s.Stats(); st.MaxConns != 10 {
		t.Errorf("MaxConns = %d, want the default 10", st.MaxConns)
	}
}

func TestApplicationNameFromURL(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.URL(t)+"&application_name=worker")
	t.Cleanup(func() { _ = s.Close() })
	var got string
	if err := pgstore.PoolOf(s).QueryRow(t.Context(), "SHOW application_name").Scan(&got); err != nil || got != "worker" {
		t.Errorf("application_name = %q, %v; want the URL's %q", got, err, "worker")
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := pgstore.Open(ctx, pgstore.Config{URL: "postgres://alice:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"})
	if code := gathering.ErrorCode(err); code != gathering.EUNAVAILABLE {
		t.Fatalf("Open of a closed port: code %q (%v), want %q", code, err, gathering.EUNAVAILABLE)
	}
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(gathering.ErrorMessage(err), "127.0.0.1:1") {
		t.Errorf("error %q must name the server and hide the password", err)
	}
}

func TestOpenInvalidURL(t *testing.T) {
	t.Parallel()
	_, err := pgstore.Open(t.Context(), pgstore.Config{URL: "postgres://alice:s3cret@127.0.0.1:notaport/db"})
	if code := gathering.ErrorCode(err); code != gathering.EINVALID || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open of a bad URL = %v (code %q), want %q without the password", err, code, gathering.EINVALID)
	}
}
