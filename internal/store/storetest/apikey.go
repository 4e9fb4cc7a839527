package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// newAPIKey stores a key of user created at the given time and returns it.
func newAPIKey(t *testing.T, s store.Store, user int64, name string, created, expires time.Time) gathering.APIKey {
	t.Helper()
	k := gathering.APIKey{
		UserID: user, Name: name, Role: gathering.RoleViewer, Prefix: "pre" + name, KeyHash: "hash-" + name,
		CreatedAt: created, ExpiresAt: expires,
	}
	got, err := s.APIKeyCreate(t.Context(), k)
	k.ID = got.ID
	if err != nil || got.ID <= 0 || got != k {
		t.Fatalf("APIKeyCreate = %+v, %v; want %+v with a positive id", got, err, k)
	}
	return got
}

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	u1, u2 := newUser(t, s, "jo@example.org"), newUser(t, s, "kim@example.org")
	k1 := newAPIKey(t, s, u1.ID, "k1", base, time.Time{})
	k2 := newAPIKey(t, s, u1.ID, "k2", minutes(1), minutes(24*60))
	k3 := newAPIKey(t, s, u2.ID, "k3", minutes(2), time.Time{})
	_, err := s.APIKeyCreate(ctx, gathering.APIKey{UserID: u2.ID, Name: "dup", Role: gathering.RoleViewer, KeyHash: k1.KeyHash, CreatedAt: base})
	wantCode(t, "APIKeyCreate of a known hash", err, gathering.ECONFLICT)

	if got, err := s.APIKeyGetByHash(ctx, k2.KeyHash); err != nil || got != k2 {
		t.Errorf("APIKeyGetByHash = %+v, %v; want %+v", got, err, k2)
	}
	_, err = s.APIKeyGetByHash(ctx, "no-such-hash")
	wantCode(t, "APIKeyGetByHash of an unknown hash", err, gathering.ENOTFOUND)
	wantAPIKeys(t, s, u1.ID, k2, k1)
	wantAPIKeys(t, s, 0, k3, k2, k1)
	wantAPIKeys(t, s, u2.ID+1)

	if err := s.APIKeyTouch(ctx, k1.ID, minutes(3)); err != nil {
		t.Fatalf("APIKeyTouch: %v", err)
	}
	for _, at := range []time.Time{minutes(4), minutes(5)} {
		if err := s.APIKeyRevoke(ctx, k1.ID, at); err != nil {
			t.Fatalf("APIKeyRevoke: %v", err)
		}
	}
	k1.LastUsedAt, k1.RevokedAt = minutes(3), minutes(4)
	if got, err := s.APIKeyGetByHash(ctx, k1.KeyHash); err != nil || got != k1 {
		t.Errorf("after touch and two revokes = %+v, %v; want %+v (the first revocation kept)", got, err, k1)
	}
	wantCode(t, "APIKeyRevoke of a missing key", s.APIKeyRevoke(ctx, k3.ID+1, base), gathering.ENOTFOUND)
	wantCode(t, "APIKeyTouch of a missing key", s.APIKeyTouch(ctx, k3.ID+1, base), gathering.ENOTFOUND)
}

// wantAPIKeys checks APIKeyList(user) against want, in order.
func wantAPIKeys(t *testing.T, s store.Store, user int64, want ...gathering.APIKey) {
	t.Helper()
	got, err := s.APIKeyList(t.Context(), user)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("APIKeyList(%d) = %s, %v; want %s", user, names(got), err, names(want))
	}
}

// names lists the names of keys, for messages.
func names(keys []gathering.APIKey) string {
	var out []string
	for _, k := range keys {
		out = append(out, k.Name)
	}
	return fmt.Sprint(out)
}
