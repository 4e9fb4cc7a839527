package auth

import (
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		u := f.register(t, "rotate@example.com", gathering.RoleMember)
		first := f.login(t, "rotate@example.com")
		f.clock.Advance(time.Minute)
		second, err := f.svc.Refresh(t.Context(), first.RefreshToken, testMeta)
		if err != nil {
			t.Fatal(err)
		}
		if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
			t.Fatal("refresh did not rotate")
		}
		p1, err1 := f.auth(t, first.AccessToken)
		p2, err2 := f.auth(t, second.AccessToken)
		if err1 != nil || err2 != nil {
			t.Fatalf("access tokens: %v, %v", err1, err2)
		}
		if p1.FamilyID != p2.FamilyID || p2.UserID != u.ID || p1.TokenID == p2.TokenID {
			t.Fatalf("family %q vs %q", p1.FamilyID, p2.FamilyID)
		}
		if !second.ExpiresAt.Equal(f.clock.Now().Add(24 * time.Hour)) {
			t.Fatalf("new expiry %v", second.ExpiresAt)
		}
		third, err := f.svc.Refresh(t.Context(), second.RefreshToken, testMeta)
		if err != nil || third.RefreshToken == second.RefreshToken {
			t.Fatalf("second rotation: %v", err)
		}
		if evs := f.audits(t, gathering.AuditTokenRefreshed); len(evs) != 2 || evs[0].ActorID != u.ID {
			t.Fatalf("token_refreshed audits %+v", evs)
		}
	})
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		u := f.register(t, "reuse@example.com", gathering.RoleMember)
		other := f.login(t, "reuse@example.com") // another login: another family
		first := f.login(t, "reuse@example.com")
		second, err := f.svc.Refresh(t.Context(), first.RefreshToken, testMeta)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Refresh(t.Context(), first.RefreshToken, testMeta) // stolen and replayed
		wantCode(t, err, gathering.EUNAUTHORIZED)
		_, err = f.svc.Refresh(t.Context(), second.RefreshToken, testMeta) // the newest dies too
		wantCode(t, err, gathering.EUNAUTHORIZED)
		for _, access := range []string{first.AccessToken, second.AccessToken} { // and every access token of the family
			_, err = f.svc.Authenticate(t.Context(), access)
			wantCode(t, err, gathering.EUNAUTHORIZED)
		}
		if _, err := f.svc.Authenticate(t.Context(), other.AccessToken); err != nil {
			t.Fatalf("another family's access token is affected: %v", err)
		}
		if _, err := f.svc.Refresh(t.Context(), other.RefreshToken, testMeta); err != nil {
			t.Fatalf("another family is affected: %v", err)
		}
		evs := f.audits(t, gathering.AuditRefreshReuseDetected)
		if len(evs) == 0 || evs[len(evs)-1].ActorID != u.ID || evs[len(evs)-1].Target != userTarget(u.ID) {
			t.Fatalf("refresh_reuse_detected audits %+v", evs)
		}
	})
}

func TestRefreshRejects(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		f.register(t, "refrej@example.com", gathering.RoleMember)
		pair := f.login(t, "refrej@example.com")
		for _, tok := range []string{"", "garbage", RefreshTokenPrefix + "unknown", pair.AccessToken} {
			_, err := f.svc.Refresh(t.Context(), tok, testMeta)
			wantCode(t, err, gathering.EUNAUTHORIZED)
		}
		f.clock.Advance(30*24*time.Hour + time.Second)
		_, err := f.svc.Refresh(t.Context(), pair.RefreshToken, testMeta)
		wantCode(t, err, gathering.EUNAUTHORIZED)
	})
}

func TestRefreshRejectsInactiveUser(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		u := f.register(t, "gone@example.com", gathering.RoleMember)
		pair := f.login(t, "gone@example.com")
		off := false
		if _, err := f.st.UserUpdate(t.Context(), storeDeactivate(u.ID, &off, f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Refresh(t.Context(), pair.RefreshToken, testMeta)
		wantCode(t, err, gathering.EUNAUTHORIZED)
	})
}
