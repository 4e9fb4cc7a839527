// Package storetest is the conformance suite every store backend passes.
// Each backend's tests call Exercise with a function that opens a fresh,
// empty store, so both backends are held to the same behavior.
package storetest

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Exec runs one SQL statement on s directly, bypassing the store interfaces.
// The suite uses it to check what the schema itself refuses.
type Exec func(ctx context.Context, s store.Store, sql string) error

// Exercise runs the conformance suite. newStore must return an open store on
// a fresh, empty, unmigrated database each time it is called; Exercise closes
// it when the subtest ends. exec may be nil: the checks that need it are then
// skipped.
func Exercise(t *testing.T, newStore func(t *testing.T) store.Store, exec Exec) {
	t.Helper()
	open := func(t *testing.T) store.Store {
		s := newStore(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	migrated := func(t *testing.T) store.Store {
		s := open(t)
		if _, err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		return s
	}
	t.Run("Migrate", func(t *testing.T) { t.Parallel(); testMigrate(t, open(t)) })
	t.Run("MigrationStatus", func(t *testing.T) { t.Parallel(); testMigrationStatus(t, open(t)) })
	t.Run("InstallationID", func(t *testing.T) { t.Parallel(); testInstallationID(t, migrated(t)) })
	t.Run("MetaRoundTrip", func(t *testing.T) { t.Parallel(); testMetaRoundTrip(t, migrated(t)) })
	t.Run("MetaGetMissing", func(t *testing.T) { t.Parallel(); testMetaGetMissing(t, migrated(t)) })
	t.Run("MetaCreateExisting", func(t *testing.T) { t.Parallel(); testMetaCreateExisting(t, migrated(t)) })
	t.Run("CanceledContext", func(t *testing.T) { t.Parallel(); testCanceledContext(t, migrated(t)) })
	t.Run("ConcurrentMetaPut", func(t *testing.T) { t.Parallel(); testConcurrentMetaPut(t, migrated(t)) })
	t.Run("PingAndStats", func(t *testing.T) { t.Parallel(); testPingAndStats(t, open(t)) })
	exerciseIdentity(t, migrated, exec)
	exerciseTools(t, migrated)
	exerciseAgents(t, migrated)
	exerciseMemories(t, migrated)
	exercisePipelines(t, migrated)
	exercisePipelineRuns(t, migrated)
	exerciseSchedules(t, migrated)
	exerciseTasks(t, migrated)
	exerciseProjects(t, migrated)
	exerciseCircles(t, migrated)
	exerciseConversations(t, migrated)
	exerciseGoals(t, migrated)
}

func testMigrate(t *testing.T, s store.Store) {
	applied, err := s.Migrate(t.Context())
	if err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	if len(applied) == 0 || applied[0] != 1 {
		t.Fatalf("first Migrate applied %v, want it to start with 1", applied)
	}
	applied, err = s.Migrate(t.Context())
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate = %v, %v; want nothing applied and no error", applied, err)
	}
}

func testMigrationStatus(t *testing.T, s store.Store) {
	before, err := s.MigrationStatus(t.Context())
	if err != nil {
		t.Fatalf("MigrationStatus before Migrate: %v", err)
	}
	if len(before) == 0 || slices.ContainsFunc(before, func(m store.MigrationState) bool { return !m.Pending() || !m.Known }) {
		t.Fatalf("before Migrate: %+v, want every embedded migration known and pending", before)
	}
	applied, err := s.Migrate(t.Context())
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	after, err := s.MigrationStatus(t.Context())
	if err != nil {
		t.Fatalf("MigrationStatus: %v", err)
	}
	if len(after) != len(applied) {
		t.Fatalf("status lists %d migrations, Migrate applied %v", len(after), applied)
	}
	for i, m := range after {
		if m.Version != i+1 || !m.Known || m.Pending() || m.Applied.Location() != time.UTC {
			t.Errorf("migration %d: %+v, want known, applied, UTC time", i+1, m)
		}
	}
}

var hex128 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func testInstallationID(t *testing.T, s store.Store) {
	first, err := s.MetaGet(t.Context(), store.MetaInstallationID)
	if err != nil {
		t.Fatalf("installation id after Migrate: %v", err)
	}
	if !hex128.MatchString(first.Value) {
		t.Errorf("installation id %q, want 128 bits in hex", first.Value)
	}
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	second, err := s.MetaGet(t.Context(), store.MetaInstallationID)
	if err != nil || second.Value != first.Value {
		t.Errorf("installation id after a second Migrate = %q, %v; want %q", second.Value, err, first.Value)
	}
}

func testMetaRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	start := time.Now()
	created, err := s.MetaCreate(ctx, "color", "blue")
	if err != nil {
		t.Fatalf("MetaCreate: %v", err)
	}
	checkMeta(t, "MetaCreate", created, "color", "blue", start)
	got, err := s.MetaGet(ctx, "color")
	if err != nil || got.Value != "blue" || !got.UpdatedAt.Equal(created.UpdatedAt) {
		t.Fatalf("MetaGet = %+v, %v; want %+v", got, err, created)
	}
	put, err := s.MetaPut(ctx, "color", "green")
	if err != nil {
		t.Fatalf("MetaPut: %v", err)
	}
	checkMeta(t, "MetaPut", put, "color", "green", created.UpdatedAt)
	if got, err := s.MetaGet(ctx, "color"); err != nil || got != put {
		t.Errorf("MetaGet after MetaPut = %+v, %v; want %+v", got, err, put)
	}
	if fresh, err := s.MetaPut(ctx, "size", "large"); err != nil || fresh.Value != "large" {
		t.Errorf("MetaPut of a new key = %+v, %v", fresh, err)
	}
}

// checkMeta checks a returned Meta: key, value, and a UTC time no earlier
// than notBefore (to the millisecond) and not in the future.
func checkMeta(t *testing.T, op string, m store.Meta, key, value string, notBefore time.Time) {
	t.Helper()
	if m.Key != key || m.Value != value {
		t.Errorf("%s = %q=%q, want %q=%q", op, m.Key, m.Value, key, value)
	}
	if m.UpdatedAt.Location() != time.UTC {
		t.Errorf("%s: UpdatedAt %v is not in UTC", op, m.UpdatedAt)
	}
	if m.UpdatedAt.Before(notBefore.Truncate(time.Millisecond)) || m.UpdatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("%s: UpdatedAt %v, want between %v and now", op, m.UpdatedAt, notBefore)
	}
}

func testMetaGetMissing(t *testing.T, s store.Store) {
	_, err := s.MetaGet(t.Context(), "no-such-key")
	if code := gathering.ErrorCode(err); code != gathering.ENOTFOUND {
		t.Errorf("MetaGet of a missing key: code %q (%v), want %q", code, err, gathering.ENOTFOUND)
	}
}

func testMetaCreateExisting(t *testing.T, s store.Store) {
	if _, err := s.MetaCreate(t.Context(), "once", "1"); err != nil {
		t.Fatalf("MetaCreate: %v", err)
	}
	_, err := s.MetaCreate(t.Context(), "once", "2")
	if code := gathering.ErrorCode(err); code != gathering.ECONFLICT {
		t.Errorf("second MetaCreate: code %q (%v), want %q", code, err, gathering.ECONFLICT)
	}
	if got, err := s.MetaGet(t.Context(), "once"); err != nil || got.Value != "1" {
		t.Errorf("after a refused MetaCreate, MetaGet = %+v, %v; want value 1", got, err)
	}
}

func testCanceledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"Ping":        func() error { return s.Ping(ctx) },
		"MetaGet":     func() error { _, err := s.MetaGet(ctx, "k"); return err },
		"MetaPut":     func() error { _, err := s.MetaPut(ctx, "k", "v"); return err },
		"UserGetByID": func() error { _, err := s.UserGetByID(ctx, 1); return err },
		"AuditAppend": func() error { _, err := s.AuditAppend(ctx, gathering.AuditEvent{Event: "x"}); return err },
		"Migrate":     func() error { _, err := s.Migrate(ctx); return err },
	}
	for name, call := range calls {
		err := call()
		if code := gathering.ErrorCode(err); code != gathering.ETIMEOUT && code != gathering.EUNAVAILABLE {
			t.Errorf("%s with a canceled context: code %q (%v), want %q or %q",
				name, code, err, gathering.ETIMEOUT, gathering.EUNAVAILABLE)
		}
	}
}

func testConcurrentMetaPut(t *testing.T, s store.Store) {
	const writers = 20
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() { _, errs[i] = s.MetaPut(t.Context(), "contended", strconv.Itoa(i)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	got, err := s.MetaGet(t.Context(), "contended")
	if err != nil {
		t.Fatalf("MetaGet: %v", err)
	}
	if n, err := strconv.Atoi(got.Value); err != nil || n < 0 || n >= writers {
		t.Errorf("final value %q was written by none of the writers", got.Value)
	}
}

func testPingAndStats(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if b := s.Backend(); b != store.Postgres && b != store.SQLite {
		t.Errorf("Backend() = %q", b)
	}
	if st := s.Stats(); st.MaxConns <= 0 || st.OpenConns < 0 || st.InUse < 0 || st.Idle < 0 {
		t.Errorf("Stats() = %+v, want MaxConns > 0", st)
	}
}
