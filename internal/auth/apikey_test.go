package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		owner := f.register(t, "owner@example.com", gathering.RoleMember)
		op := principalOf(owner)
		key, k, err := f.svc.CreateAPIKey(ctx, op, " script ", "", time.Time{}, testMeta)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(key, APIKeyPrefix) || len(key) != len(APIKeyPrefix)+43 || k.Prefix != key[4:12] ||
			k.Role != gathering.RoleMember || k.Name != "script" || k.KeyHash != hashSecret(key) {
			t.Fatalf("key %q, record %+v", key, k)
		}
		p, err := f.auth(t, key)
		if err != nil {
			t.Fatal(err)
		}
		if p.UserID != owner.ID || p.Role != gathering.RoleMember || p.APIKeyID != k.ID || p.TokenID != "" {
			t.Fatalf("principal %+v", p)
		}
		keys, err := f.svc.ListAPIKeys(ctx, op, false)
		if err != nil || len(keys) != 1 || keys[0].LastUsedAt.IsZero() {
			t.Fatalf("list %+v, %v", keys, err)
		}
		_, _, err = f.svc.CreateAPIKey(ctx, op, "admin key", gathering.RoleAdmin, time.Time{}, testMeta)
		wantCode(t, err, gathering.EFORBIDDEN)
		_, _, err = f.svc.CreateAPIKey(ctx, op, "", "", f.clock.Now().Add(-time.Second), testMeta)
		if wantCode(t, err, gathering.EINVALID); len(gathering.ErrorFields(err)) != 2 {
			t.Fatalf("fields %v", gathering.ErrorFields(err))
		}
		if err := f.svc.RevokeAPIKey(ctx, op, k.ID, testMeta); err != nil {
			t.Fatal(err)
		}
		_, err = f.auth(t, key)
		wantCode(t, err, gathering.EUNAUTHORIZED)
		for _, ev := range []string{gathering.AuditAPIKeyCreated, gathering.AuditAPIKeyRevoked} {
			evs := f.audits(t, ev)
			if len(evs) != 1 || evs[0].Target != apiKeyTarget(k.ID) || strings.Contains(string(evs[0].Details), key) {
				t.Fatalf("%s audits %+v", ev, evs)
			}
		}
	})
}

func TestAPIKeyRoleIsCappedByOwner(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		owner := f.register(t, "capped@example.com", gathering.RoleAdmin)
		f.register(t, "keeper@example.com", gathering.RoleAdmin) // so the owner may be demoted
		key, _, err := f.svc.CreateAPIKey(t.Context(), principalOf(owner), "k", gathering.RoleMember, time.Time{}, testMeta)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := f.auth(t, key); err != nil || p.Role != gathering.RoleMember {
			t.Fatalf("key role: %+v, %v", p, err)
		}
		viewer := gathering.RoleViewer
		if _, err := f.st.UserUpdate(t.Context(), storeRole(owner.ID, &viewer, f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		if p, err := f.auth(t, key); err != nil || p.Role != gathering.RoleViewer {
			t.Fatalf("after the owner's demotion: %+v, %v", p, err)
		}
		off := false
		if _, err := f.st.UserUpdate(t.Context(), storeDeactivate(owner.ID, &off, f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		_, err = f.auth(t, key)
		wantCode(t, err, gathering.EUNAUTHORIZED)
	})
}

func TestAPIKeyExpiry(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		owner := f.register(t, "expkey@example.com", gathering.RoleMember)
		key, _, err := f.svc.CreateAPIKey(t.Context(), principalOf(owner), "k", "", f.clock.Now().Add(time.Hour), testMeta)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth(t, key); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour)
		_, err = f.auth(t, key)
		wantCode(t, err, gathering.EUNAUTHORIZED)
		if gathering.ErrorMessage(err) != "API key expired" {
			t.Fatalf("message %q", gathering.ErrorMessage(err))
		}
	})
}

func TestAPIKeyOwnership(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		alice := principalOf(f.register(t, "alice@example.com", gathering.RoleMember))
		bob := principalOf(f.register(t, "bob@example.com", gathering.RoleMember))
		admin := principalOf(f.register(t, "boss@example.com", gathering.RoleAdmin))
		_, ak, err := f.svc.CreateAPIKey(ctx, alice, "a", "", time.Time{}, testMeta)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.CreateAPIKey(ctx, bob, "b", "", time.Time{}, testMeta); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.RevokeAPIKey(ctx, bob, ak.ID, testMeta), gathering.ENOTFOUND)
		_, err = f.svc.ListAPIKeys(ctx, bob, true)
		wantCode(t, err, gathering.EFORBIDDEN)
		if keys, err := f.svc.ListAPIKeys(ctx, bob, false); err != nil || len(keys) != 1 || keys[0].UserID != bob.UserID {
			t.Fatalf("bob's keys %+v, %v", keys, err)
		}
		if keys, err := f.svc.ListAPIKeys(ctx, admin, true); err != nil || len(keys) != 2 {
			t.Fatalf("all keys %+v, %v", keys, err)
		}
		if err := f.svc.RevokeAPIKey(ctx, admin, ak.ID, testMeta); err != nil {
			t.Fatalf("admin revoking another's key: %v", err)
		}
	})
}

// principalOf is the principal of a user logged in with an access token.
func principalOf(u gathering.User) Principal {
	return Principal{UserID: u.ID, Email: u.Email, Role: u.Role}
}
