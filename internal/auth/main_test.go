package auth

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/pgstore"
	"github.com/gathering/gathering/internal/store/pgtest"
	"github.com/gathering/gathering/internal/store/sqlitestore"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	_ store.IdentityStore = (*sqlitestore.Store)(nil)
	_ store.IdentityStore = (*pgstore.Store)(nil)
)

// backends are the storage implementations every service test runs on.
var backends = []store.Backend{store.SQLite, store.Postgres}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the current fake time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is what setup returns.
type fixture struct {
	svc   *Service
	st    identityStore
	clock *fakeClock
	cfg   Config
	// other returns a second Service on the same database with its own
	// (empty) revocation cache: another instance.
	other func() *Service
}

// identityStore is a database as tests use it.
type identityStore interface {
	store.Store
	store.IdentityStore
}

// setup opens and migrates a fresh database on backend and builds a Service
// on it with a fake clock and bcrypt cost 10.
func setup(t testing.TB, backend store.Backend) *fixture {
	t.Helper()
	st, reopen := openStore(t, backend)
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Second)}
	cfg := Config{Secret: testSecret, BcryptCost: testCost, Now: clock.Now, PurgeInterval: 10 * time.Millisecond}
	f := &fixture{st: st, clock: clock, cfg: cfg}
	f.svc = newTestService(t, cfg, st)
	f.other = func() *Service { return newTestService(t, cfg, reopen()) }
	return f
}

// newTestService builds a Service or fails the test.
func newTestService(t testing.TB, cfg Config, st store.IdentityStore) *Service {
	t.Helper()
	svc, err := NewService(cfg, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// openStore opens a migrated store and a function that opens another
// connection to the same database (the same store for SQLite, which one
// process owns).
func openStore(t testing.TB, backend store.Backend) (identityStore, func() identityStore) {
	t.Helper()
	if backend == store.SQLite {
		st := openSQLite(t, filepath.Join(t.TempDir(), "gathering.db"))
		return st, func() identityStore { return st }
	}
	url := pgtest.URL(t)
	st := openPostgres(t, url)
	return st, func() identityStore { return openPostgres(t, url) }
}

// openSQLite opens and migrates a SQLite store.
func openSQLite(t testing.TB, path string) identityStore {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	migrate(t, st)
	return st
}

// openPostgres opens and migrates a PostgreSQL store.
func openPostgres(t testing.TB, url string) identityStore {
	t.Helper()
	st, err := pgstore.Open(context.Background(), pgstore.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	migrate(t, st)
	return st
}

// migrate applies the migrations.
func migrate(t testing.TB, st store.Store) {
	t.Helper()
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
}

// forEachBackend runs fn as a parallel subtest per backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Helper()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			fn(t, setup(t, b))
		})
	}
}

// testMeta is the request metadata of test calls.
var testMeta = RequestMeta{UserAgent: "auth-test", RequestID: "req-1"}

// testPassword is the password of every user made by fixture.register.
const testPassword = "correct horse battery staple"

// testPasswordHash is its hash in the stored format, computed once and at
// bcrypt's minimum cost: bcrypt is some 17 times slower under -race, and
// these users exist to test the logic around it. Hashes made by the Service
// (Register, SetPassword, the dummy) use Config.BcryptCost, 10 in tests, and
// TestLoginTiming uses only those.
var testPasswordHash = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword(preHash(testPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return preHashPrefix + string(h)
})

// register creates an active user with testPassword directly in the store
// (Register itself is tested in register_test.go).
func (f *fixture) register(t *testing.T, email string, role gathering.Role) gathering.User {
	t.Helper()
	u, err := f.st.UserCreate(t.Context(), store.UserCreateParams{
		Email: email, Name: "User " + email, Role: role, PasswordHash: testPasswordHash(), IsActive: true, At: f.clock.Now(),
	})
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return u
}

// login logs a registered user in.
func (f *fixture) login(t *testing.T, email string) TokenPair {
	t.Helper()
	pair, _, err := f.svc.Login(t.Context(), email, testPassword, testMeta)
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return pair
}

// auth authenticates a token with the fixture's Service.
func (f *fixture) auth(t *testing.T, token string) (Principal, error) {
	t.Helper()
	return f.svc.Authenticate(t.Context(), token)
}

// audits returns the audit events named event, newest first.
func (f *fixture) audits(t *testing.T, event string) []gathering.AuditEvent {
	t.Helper()
	evs, _, err := f.st.AuditList(t.Context(), store.AuditFilter{Event: event, Page: store.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// wantCode fails unless err has the code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if gathering.ErrorCode(err) != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}
