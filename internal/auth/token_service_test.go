package auth

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gathering/gathering/internal/gathering"
)

func TestAccessTokenClaims(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		u := f.register(t, "claims@example.com", gathering.RoleMember)
		pair := f.login(t, "claims@example.com")
		claims, id, err := f.svc.tokens.parse(pair.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		now := f.clock.Now()
		if id != u.ID || claims.Subject != strconv.FormatInt(u.ID, 10) || claims.Role != gathering.RoleMember ||
			claims.Email != "claims@example.com" || claims.Issuer != DefaultIssuer || len(claims.ID) != 32 || claims.FamilyID == "" {
			t.Fatalf("claims %+v", claims)
		}
		if !claims.ExpiresAt.Equal(now.Add(24*time.Hour)) || !pair.ExpiresAt.Equal(now.Add(24*time.Hour)) || pair.ExpiresIn != 86400 {
			t.Fatalf("expiry %v / %v / %d", claims.ExpiresAt, pair.ExpiresAt, pair.ExpiresIn)
		}
		p, err := f.auth(t, pair.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		want := Principal{UserID: u.ID, Email: u.Email, Role: gathering.RoleMember, TokenID: claims.ID, FamilyID: claims.FamilyID, ExpiresAt: pair.ExpiresAt, User: p.User}
		if p != want || p.User.ID != u.ID || p.User.Email != u.Email {
			t.Fatalf("principal %+v, want %+v", p, want)
		}
		if len(pair.RefreshToken) != len(RefreshTokenPrefix)+43 {
			t.Fatalf("refresh token %q", pair.RefreshToken)
		}
	})
}

func TestAccessTokenExpiry(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		f.register(t, "exp@example.com", gathering.RoleViewer)
		pair := f.login(t, "exp@example.com")
		f.clock.Advance(24 * time.Hour) // at exp: still inside the leeway
		if _, err := f.auth(t, pair.AccessToken); err != nil {
			t.Fatalf("at expiry, within leeway: %v", err)
		}
		f.clock.Advance(tokenLeeway + time.Second)
		_, err := f.auth(t, pair.AccessToken)
		wantCode(t, err, gathering.EUNAUTHORIZED)
		if gathering.ErrorMessage(err) != "Token expired" {
			t.Fatalf("message %q", gathering.ErrorMessage(err))
		}
	})
}

func TestAuthenticateRejectsForgedTokens(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		u := f.register(t, "forged@example.com", gathering.RoleMember)
		good := goodClaims(strconv.FormatInt(u.ID, 10), f.clock.Now())
		if _, err := f.auth(t, forge(t, jwt.SigningMethodHS256, testSecret, good)); err != nil {
			t.Fatalf("a well-formed token is rejected: %v", err)
		}
		tests := map[string]string{
			"tampered signature": tamper(forge(t, jwt.SigningMethodHS256, testSecret, good)),
			"wrong key":          forge(t, jwt.SigningMethodHS256, otherSecret, good),
			"alg none":           forgeNone(t, good),
			"alg HS512":          forge(t, jwt.SigningMethodHS512, testSecret, good),
			"missing sub":        forge(t, jwt.SigningMethodHS256, testSecret, without(good, "sub")),
			"missing jti":        forge(t, jwt.SigningMethodHS256, testSecret, without(good, "jti")),
			"unknown user":       forge(t, jwt.SigningMethodHS256, testSecret, with(good, "sub", "999999")),
			"not yet valid":      forge(t, jwt.SigningMethodHS256, testSecret, with(good, "nbf", f.clock.Now().Add(time.Hour).Unix())),
			"unknown API key":    APIKeyPrefix + "nope",
		}
		for name, tok := range tests {
			if _, err := f.auth(t, tok); gathering.ErrorCode(err) != gathering.EUNAUTHORIZED {
				t.Errorf("%s: want EUNAUTHORIZED, got %v", name, err)
			}
		}
	})
}

func TestRevokedTokenRejectedEverywhere(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		f.register(t, "revoke@example.com", gathering.RoleMember)
		pair := f.login(t, "revoke@example.com")
		other := f.other()
		if _, err := other.Authenticate(t.Context(), pair.AccessToken); err != nil {
			t.Fatalf("the other instance rejects a valid token: %v", err)
		}
		p, err := f.auth(t, pair.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Logout(t.Context(), p, testMeta); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth(t, pair.AccessToken); gathering.ErrorMessage(err) != "Token revoked" {
			t.Fatalf("same instance: %v", err)
		}
		// The other instance saw the token valid a moment ago: no negative
		// cache may keep it valid.
		if _, err := other.Authenticate(t.Context(), pair.AccessToken); gathering.ErrorMessage(err) != "Token revoked" {
			t.Fatalf("other instance: %v", err)
		}
		if _, err := f.other().Authenticate(t.Context(), pair.AccessToken); gathering.ErrorMessage(err) != "Token revoked" {
			t.Fatalf("fresh instance: %v", err)
		}
		_, err = f.svc.Refresh(t.Context(), pair.RefreshToken, testMeta)
		wantCode(t, err, gathering.EUNAUTHORIZED)
		if evs := f.audits(t, gathering.AuditLogout); len(evs) != 1 || evs[0].ActorID != p.UserID {
			t.Fatalf("logout audit %+v", evs)
		}
	})
}

func TestConcurrentAuthenticate(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		u := f.register(t, "many@example.com", gathering.RoleMember)
		pair := f.login(t, "many@example.com")
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for range 50 {
			wg.Go(func() {
				p, err := f.svc.Authenticate(t.Context(), pair.AccessToken)
				if err == nil && p.UserID != u.ID {
					err = gathering.Errorf(gathering.EINTERNAL, "wrong user %d", p.UserID)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestRevocationCheckFailsClosed(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		f.register(t, "closed@example.com", gathering.RoleMember)
		pair := f.login(t, "closed@example.com")
		broken := newTestService(t, f.cfg, failingRevocations{f.st})
		_, err := broken.Authenticate(t.Context(), pair.AccessToken)
		wantCode(t, err, gathering.EUNAVAILABLE)
	})
}

// failingRevocations is a store whose revocation check always fails.
type failingRevocations struct{ identityStore }

func (failingRevocations) RevocationExists(context.Context, string, string) (bool, error) {
	return false, gathering.Errorf(gathering.EUNAVAILABLE, "database down")
}
