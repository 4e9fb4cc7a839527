package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// newRefresh stores a refresh token of user in family, created at base and
// expiring a day later.
func newRefresh(t *testing.T, s store.Store, id, family string, user int64) gathering.RefreshToken {
	t.Helper()
	tok := gathering.RefreshToken{
		ID: id, FamilyID: family, UserID: user, TokenHash: "hash-" + id, CreatedAt: base, ExpiresAt: base.Add(24 * time.Hour),
	}
	if err := s.RefreshTokenCreate(t.Context(), tok); err != nil {
		t.Fatalf("RefreshTokenCreate(%s): %v", id, err)
	}
	return tok
}

// wantUsable checks that the token can be used now, once.
func wantUsable(t *testing.T, s store.Store, tok gathering.RefreshToken, at time.Time) {
	t.Helper()
	got, err := s.RefreshTokenUse(t.Context(), tok.TokenHash, at)
	if err != nil || got != tok {
		t.Errorf("RefreshTokenUse(%s) = %+v, %v; want %+v", tok.ID, got, err, tok)
	}
}

// wantRefused checks that using the token fails with ECONFLICT and returns
// it as stored.
func wantRefused(t *testing.T, s store.Store, want gathering.RefreshToken) {
	t.Helper()
	got, err := s.RefreshTokenUse(t.Context(), want.TokenHash, minutes(30))
	wantCode(t, "RefreshTokenUse of "+want.ID, err, gathering.ECONFLICT)
	if got != want {
		t.Errorf("refused RefreshTokenUse(%s) returned %+v, want %+v", want.ID, got, want)
	}
}

func testRefreshTokenUse(t *testing.T, s store.Store) {
	u := newUser(t, s, "erin@example.org")
	tok := newRefresh(t, s, "t1", "f1", u.ID)
	wantUsable(t, s, tok, minutes(1))
	tok.UsedAt = minutes(1)
	wantRefused(t, s, tok)
	_, err := s.RefreshTokenUse(t.Context(), "no-such-hash", minutes(1))
	wantCode(t, "RefreshTokenUse of an unknown hash", err, gathering.ENOTFOUND)
	wantCode(t, "RefreshTokenCreate of a known id", s.RefreshTokenCreate(t.Context(), tok), gathering.ECONFLICT)
}

func testRefreshFamilyRevoke(t *testing.T, s store.Store) {
	u := newUser(t, s, "finn@example.org")
	a1, a2 := newRefresh(t, s, "a1", "fa", u.ID), newRefresh(t, s, "a2", "fa", u.ID)
	b1 := newRefresh(t, s, "b1", "fb", u.ID)
	if err := s.RefreshFamilyRevoke(t.Context(), "fa", minutes(2)); err != nil {
		t.Fatalf("RefreshFamilyRevoke: %v", err)
	}
	for _, tok := range []gathering.RefreshToken{a1, a2} {
		tok.RevokedAt = minutes(2)
		wantRefused(t, s, tok)
	}
	wantUsable(t, s, b1, minutes(3))
}

func testRefreshTokensRevokeForUser(t *testing.T, s store.Store) {
	u1, u2 := newUser(t, s, "gus@example.org"), newUser(t, s, "hal@example.org")
	tokens := []gathering.RefreshToken{newRefresh(t, s, "g1", "fg1", u1.ID), newRefresh(t, s, "g2", "fg2", u1.ID)}
	other := newRefresh(t, s, "h1", "fh", u2.ID)
	if err := s.RefreshTokensRevokeForUser(t.Context(), u1.ID, minutes(4)); err != nil {
		t.Fatalf("RefreshTokensRevokeForUser: %v", err)
	}
	for _, tok := range tokens {
		tok.RevokedAt = minutes(4)
		wantRefused(t, s, tok)
	}
	wantUsable(t, s, other, minutes(5))
}

func testRefreshTokenPurge(t *testing.T, s store.Store) {
	u := newUser(t, s, "ida@example.org")
	old := newRefresh(t, s, "p1", "fp", u.ID) // expires at base + 24 h
	if n, err := s.RefreshTokenPurge(t.Context(), old.ExpiresAt); err != nil || n != 0 {
		t.Fatalf("RefreshTokenPurge at expiry = %d, %v; want 0 (expires_at < before)", n, err)
	}
	if n, err := s.RefreshTokenPurge(t.Context(), old.ExpiresAt.Add(time.Millisecond)); err != nil || n != 1 {
		t.Fatalf("RefreshTokenPurge after expiry = %d, %v; want 1", n, err)
	}
	if _, err := s.RefreshTokenUse(t.Context(), old.TokenHash, minutes(1)); gathering.ErrorCode(err) != gathering.ENOTFOUND {
		t.Fatalf("a purged token: %v, want ENOTFOUND", err)
	}
}

// testRefreshTokenConcurrentUse uses one token from many goroutines at once:
// exactly one may rotate it, every other one must see a reuse.
func testRefreshTokenConcurrentUse(t *testing.T, s store.Store) {
	u := newUser(t, s, "ivy@example.org")
	tok := newRefresh(t, s, "c1", "fc", u.ID)
	const users = 20
	errs := make([]error, users)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range users {
		wg.Go(func() {
			<-start
			_, errs[i] = s.RefreshTokenUse(t.Context(), tok.TokenHash, minutes(1))
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch gathering.ErrorCode(err) {
		case "":
			won++
		case gathering.ECONFLICT:
		default:
			t.Errorf("user %d: %v, want success or %q", i, err, gathering.ECONFLICT)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent uses succeeded, want exactly 1", won, users)
	}
}

func testRevocations(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, r := range []struct {
		jti string
		exp time.Time
	}{{"j1", base}, {"j1", base}, {"j2", minutes(120)}, {"j3", minutes(60)}} {
		if err := s.RevocationCreate(ctx, r.jti, r.exp); err != nil {
			t.Fatalf("RevocationCreate(%s): %v", r.jti, err)
		}
	}
	wantRevoked := func(jti string, want bool) {
		t.Helper()
		if got, err := s.RevocationExists(ctx, jti, "family:none"); err != nil || got != want {
			t.Errorf("RevocationExists(%s) = %v, %v; want %v", jti, got, err, want)
		}
	}
	wantRevoked("j1", true)
	wantRevoked("j9", false)
	if got, err := s.RevocationExists(ctx, "j9", "j2"); err != nil || !got {
		t.Errorf("RevocationExists(j9, j2) = %v, %v; want the family key to count", got, err)
	}
	if n, err := s.RevocationPurge(ctx, minutes(60)); err != nil || n != 1 {
		t.Errorf("RevocationPurge = %d, %v; want 1 (expires_at < before)", n, err)
	}
	wantRevoked("j1", false)
	wantRevoked("j3", true)
	if n, err := s.RevocationPurge(ctx, minutes(60)); err != nil || n != 0 {
		t.Errorf("second RevocationPurge = %d, %v; want 0", n, err)
	}
}

func testLoginFailures(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := 1; i <= 3; i++ {
		if n, err := s.LoginFailureRecord(ctx, "k", minutes(i)); err != nil || n != i {
			t.Fatalf("LoginFailureRecord #%d = %d, %v; want %d", i, n, err, i)
		}
	}
	if n, at, err := s.LoginFailureCount(ctx, "k"); err != nil || n != 3 || at != minutes(3) {
		t.Errorf("LoginFailureCount = %d, %v, %v; want 3, %v", n, at, err, minutes(3))
	}
	if err := s.LoginFailureReset(ctx, "k"); err != nil {
		t.Fatalf("LoginFailureReset: %v", err)
	}
	if n, at, err := s.LoginFailureCount(ctx, "k"); err != nil || n != 0 || !at.IsZero() {
		t.Errorf("LoginFailureCount after reset = %d, %v, %v; want 0 and zero time", n, at, err)
	}
	testConcurrentLoginFailures(t, s)
}

// testConcurrentLoginFailures records failures from many goroutines at once
// and checks that none is lost.
func testConcurrentLoginFailures(t *testing.T, s store.Store) {
	const failures = 20
	var wg sync.WaitGroup
	for range failures {
		wg.Go(func() {
			if _, err := s.LoginFailureRecord(t.Context(), "busy", base); err != nil {
				t.Errorf("LoginFailureRecord: %v", err)
			}
		})
	}
	wg.Wait()
	if n, _, err := s.LoginFailureCount(t.Context(), "busy"); err != nil || n != failures {
		t.Errorf("after %d concurrent failures LoginFailureCount = %d, %v", failures, n, err)
	}
}
