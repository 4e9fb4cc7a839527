package auth

import (
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// storeDeactivate builds the store parameters that set is_active.
func storeDeactivate(id int64, active *bool, at time.Time) store.UserUpdateParams {
	return store.UserUpdateParams{ID: id, IsActive: active, At: at}
}

func TestPurgerDeletesExpiredRevocations(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		now := f.clock.Now()
		if err := f.svc.Revoke(t.Context(), "short", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Revoke(t.Context(), "long", now.Add(48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		p := f.svc.Purger()
		if err := p.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := p.Start(t.Context()); err == nil {
			t.Fatal("a second Start succeeded")
		}
		time.Sleep(50 * time.Millisecond) // a few ticks: nothing has expired yet
		if !revoked(t, f, "short") {
			t.Fatal("purged before expiry")
		}
		f.clock.Advance(2 * time.Hour)
		waitFor(t, func() bool { return !revoked(t, f, "short") })
		if err := p.Stop(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := p.Stop(t.Context()); err != nil {
			t.Fatalf("a second Stop: %v", err)
		}
		if !revoked(t, f, "long") {
			t.Fatal("an unexpired revocation was purged")
		}
	})
}

// revoked asks the database whether jti is revoked.
func revoked(t *testing.T, f *fixture, jti string) bool {
	t.Helper()
	ok, err := f.st.RevocationExists(t.Context(), jti, "")
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPurgeDeletesExpiredRefreshTokens(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		f.register(t, "purge@example.com", gathering.RoleMember)
		pair := f.login(t, "purge@example.com")
		if n, err := f.svc.PurgeRevocations(t.Context()); err != nil || n != 0 {
			t.Fatalf("purge before expiry: %d, %v", n, err)
		}
		f.clock.Advance(31 * 24 * time.Hour) // past the 30-day refresh lifetime
		if n, err := f.svc.PurgeRevocations(t.Context()); err != nil || n != 1 {
			t.Fatalf("purge after expiry: %d, %v; want the refresh token", n, err)
		}
		_, err := f.svc.Refresh(t.Context(), pair.RefreshToken, testMeta)
		wantCode(t, err, gathering.EUNAUTHORIZED)
	})
}
