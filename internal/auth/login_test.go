package auth

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

func TestLoginSucceeds(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		u := f.register(t, "ok@example.com", gathering.RoleMember)
		pair, got, err := f.svc.Login(t.Context(), "  OK@Example.COM ", testPassword, testMeta)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || pair.AccessToken == "" || pair.RefreshToken == "" {
			t.Fatalf("login returned %+v, %+v", got, pair)
		}
		stored, err := f.st.UserGetByID(t.Context(), u.ID)
		if err != nil || !stored.LastLoginAt.Equal(f.clock.Now()) {
			t.Fatalf("last_login_at %v, want %v (%v)", stored.LastLoginAt, f.clock.Now(), err)
		}
		evs := f.audits(t, gathering.AuditLoginSucceeded)
		if len(evs) != 1 || evs[0].ActorID != u.ID || evs[0].UserAgent != "auth-test" || evs[0].RequestID != "req-1" {
			t.Fatalf("login_succeeded audits %+v", evs)
		}
	})
}

func TestLoginFailuresAreUniform(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		f.register(t, "known@example.com", gathering.RoleMember)
		u := f.register(t, "inactive@example.com", gathering.RoleMember)
		off := false
		if _, err := f.st.UserUpdate(t.Context(), storeDeactivate(u.ID, &off, f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		attempts := []struct{ email, password string }{
			{"unknown@example.com", testPassword},
			{"known@example.com", "wrong password!"},
			{"inactive@example.com", testPassword},
		}
		for _, a := range attempts {
			_, _, err := f.svc.Login(t.Context(), a.email, a.password, testMeta)
			if err != errBadLogin {
				t.Errorf("%s: got %v, want %v", a.email, err, errBadLogin)
			}
		}
		evs := f.audits(t, gathering.AuditLoginFailed)
		if len(evs) != 3 {
			t.Fatalf("login_failed audits %+v", evs)
		}
		for _, e := range evs {
			if e.ActorID != 0 || !strings.HasSuffix(e.Target, "@example.com") || strings.Contains(string(e.Details), "password") {
				t.Fatalf("audit %+v", e)
			}
		}
	})
}

func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		f.register(t, "victim@example.com", gathering.RoleMember)
		counter := &countingStore{identityStore: f.st}
		svc := newTestService(t, f.cfg, counter)
		login := func(email, pw string) error {
			_, _, err := svc.Login(t.Context(), email, pw, testMeta)
			return err
		}
		for _, email := range []string{"victim@example.com", "nobody@example.com"} {
			for range 5 {
				wantCode(t, login(email, "wrong password"), gathering.EUNAUTHORIZED)
			}
			f.clock.Advance(10 * time.Second)
			before := counter.lookups.Load()
			err := login(strings.ToUpper(email), testPassword) // even the right password waits
			wantCode(t, err, gathering.ERATELIMITED)
			if got := gathering.ErrorRetryAfter(err); got != 50*time.Second {
				t.Fatalf("%s: RetryAfter %v, want 50s", email, got)
			}
			if counter.lookups.Load() != before {
				t.Fatal("a throttled attempt looked the account up (and did bcrypt work)")
			}
		}
		// The delay doubles with each further failure.
		f.clock.Advance(51 * time.Second)
		wantCode(t, login("victim@example.com", "wrong again"), gathering.EUNAUTHORIZED)
		err := login("victim@example.com", testPassword)
		if gathering.ErrorRetryAfter(err) != 2*time.Minute {
			t.Fatalf("after 6 failures: %v (RetryAfter %v)", err, gathering.ErrorRetryAfter(err))
		}
		f.clock.Advance(2*time.Minute + time.Second)
		if err := login("victim@example.com", testPassword); err != nil {
			t.Fatalf("after the delay: %v", err)
		}
		// Success reset the counter: one failure is not throttled.
		wantCode(t, login("victim@example.com", "wrong"), gathering.EUNAUTHORIZED)
		if err := login("victim@example.com", testPassword); err != nil {
			t.Fatalf("after a reset: %v", err)
		}
		if evs := f.audits(t, gathering.AuditLoginThrottled); len(evs) != 3 || evs[0].Target != "victim@example.com" {
			t.Fatalf("login_throttled audits %+v", evs)
		}
	})
}

// countingStore counts account lookups by email.
type countingStore struct {
	identityStore
	lookups atomic.Int64
}

func (c *countingStore) UserGetByEmail(ctx context.Context, email string) (gathering.User, error) {
	c.lookups.Add(1)
	return c.identityStore.UserGetByEmail(ctx, email)
}
