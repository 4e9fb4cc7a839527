package auth

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// storeRole builds the store parameters that set a role.
func storeRole(id int64, role *gathering.Role, at time.Time) store.UserUpdateParams {
	return store.UserUpdateParams{ID: id, Role: role, At: at}
}

func TestRoleChangeTakesEffectAtOnce(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		admin := principalOf(f.register(t, "admin@example.com", gathering.RoleAdmin))
		u := f.register(t, "member@example.com", gathering.RoleMember)
		pair := f.login(t, "member@example.com")
		viewer := gathering.RoleViewer
		name := "  Renamed "
		got, err := f.svc.UpdateUser(t.Context(), admin, u.ID, UserPatch{Role: &viewer, Name: &name}, testMeta)
		if err != nil {
			t.Fatal(err)
		}
		if got.Role != viewer || got.Name != "Renamed" {
			t.Fatalf("updated %+v", got)
		}
		if p, err := f.auth(t, pair.AccessToken); err != nil || p.Role != gathering.RoleViewer {
			t.Fatalf("the same token after demotion: %+v, %v", p, err)
		}
		evs := f.audits(t, gathering.AuditRoleChanged)
		var d map[string]string
		if len(evs) != 1 || json.Unmarshal(evs[0].Details, &d) != nil || d["old"] != "member" || d["new"] != "viewer" || evs[0].ActorID != admin.UserID {
			t.Fatalf("role_changed audits %+v", evs)
		}
		if evs := f.audits(t, gathering.AuditUserUpdated); len(evs) != 1 {
			t.Fatalf("user_updated audits %+v", evs)
		}
	})
}

func TestDeactivation(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		admin := principalOf(f.register(t, "admin@example.com", gathering.RoleAdmin))
		u := f.register(t, "leaving@example.com", gathering.RoleMember)
		pair := f.login(t, "leaving@example.com")
		off := false
		if _, err := f.svc.UpdateUser(t.Context(), admin, u.ID, UserPatch{IsActive: &off}, testMeta); err != nil {
			t.Fatal(err)
		}
		_, err := f.auth(t, pair.AccessToken)
		wantCode(t, err, gathering.EUNAUTHORIZED)
		_, err = f.svc.Refresh(t.Context(), pair.RefreshToken, testMeta)
		wantCode(t, err, gathering.EUNAUTHORIZED)
		if _, _, err := f.svc.Login(t.Context(), "leaving@example.com", testPassword, testMeta); err != errBadLogin {
			t.Fatalf("login of a deactivated user: %v", err)
		}
		if evs := f.audits(t, gathering.AuditUserDeactivated); len(evs) != 1 || evs[0].Target != userTarget(u.ID) {
			t.Fatalf("user_deactivated audits %+v", evs)
		}
	})
}

func TestLastAdminIsKept(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		admin := principalOf(f.register(t, "only@example.com", gathering.RoleAdmin))
		member, off := gathering.RoleMember, false
		_, err := f.svc.UpdateUser(ctx, admin, admin.UserID, UserPatch{Role: &member}, testMeta)
		wantCode(t, err, gathering.ECONFLICT)
		_, err = f.svc.UpdateUser(ctx, admin, admin.UserID, UserPatch{IsActive: &off}, testMeta)
		wantCode(t, err, gathering.ECONFLICT)
		cli := Principal{Role: gathering.RoleAdmin} // the operator's CLI
		_, err = f.svc.UpdateUser(ctx, cli, admin.UserID, UserPatch{Role: &member}, testMeta)
		wantCode(t, err, gathering.ECONFLICT)
		second := f.register(t, "second@example.com", gathering.RoleAdmin)
		if _, err := f.svc.UpdateUser(ctx, admin, admin.UserID, UserPatch{Role: &member}, testMeta); err != nil {
			t.Fatalf("demoting one of two admins: %v", err)
		}
		_, err = f.svc.UpdateUser(ctx, principalOf(second), second.ID, UserPatch{IsActive: &off}, testMeta)
		wantCode(t, err, gathering.ECONFLICT)
	})
}

func TestUpdateUserChecks(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		u := f.register(t, "plain@example.com", gathering.RoleMember)
		admin := principalOf(f.register(t, "adm@example.com", gathering.RoleAdmin))
		bad, empty := gathering.Role("root"), ""
		_, err := f.svc.UpdateUser(ctx, principalOf(u), u.ID, UserPatch{Name: &empty}, testMeta)
		wantCode(t, err, gathering.EFORBIDDEN)
		_, err = f.svc.UpdateUser(ctx, admin, u.ID, UserPatch{Name: &empty, Role: &bad}, testMeta)
		if wantCode(t, err, gathering.EINVALID); len(gathering.ErrorFields(err)) != 2 {
			t.Fatalf("fields %v", gathering.ErrorFields(err))
		}
		_, err = f.svc.UpdateUser(ctx, admin, 99999, UserPatch{}, testMeta)
		wantCode(t, err, gathering.ENOTFOUND)
	})
}
