package auth

import (
	"context"
	"strings"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// UserPatch changes the fields that are not nil.
type UserPatch struct {
	Name     *string
	Role     *gathering.Role
	IsActive *bool
}

// validate trims the name and returns one EINVALID with every bad field.
func (p *UserPatch) validate() error {
	var fe fieldErrors
	if p.Name != nil {
		name := strings.TrimSpace(*p.Name)
		p.Name = &name
		fe.check(nameFieldError(name))
	}
	if p.Role != nil {
		fe.check(roleFieldError("role", *p.Role))
	}
	return fe.err("Invalid user")
}

// UpdateUser changes a user's name, role or activity. The actor must be an
// admin (the CLI passes a Principal with RoleAdmin and UserID 0). A change
// that would leave no active admin is ECONFLICT. Deactivation revokes the
// user's refresh tokens; access tokens stop working at once because
// Authenticate checks the account on every request. Audits user_updated,
// and role_changed or user_deactivated when they apply.
func (s *Service) UpdateUser(ctx context.Context, actor Principal, id int64, patch UserPatch, meta RequestMeta) (gathering.User, error) {
	if !actor.Role.AtLeast(gathering.RoleAdmin) {
		return gathering.User{}, gathering.Errorf(gathering.EFORBIDDEN, "Only administrators can change users")
	}
	if err := patch.validate(); err != nil {
		return gathering.User{}, err
	}
	old, err := s.st.UserGetByID(ctx, id)
	if err != nil {
		return gathering.User{}, err
	}
	u, err := s.st.UserUpdate(ctx, store.UserUpdateParams{ID: id, Name: patch.Name, Role: patch.Role, IsActive: patch.IsActive, At: s.now()})
	if err != nil {
		return gathering.User{}, err
	}
	if err := s.afterUpdate(ctx, actor, old, u, meta); err != nil {
		return gathering.User{}, err
	}
	return u, nil
}

// afterUpdate revokes a deactivated user's refresh tokens and audits.
func (s *Service) afterUpdate(ctx context.Context, actor Principal, old, u gathering.User, meta RequestMeta) error {
	target := userTarget(u.ID)
	deactivated := old.IsActive && !u.IsActive
	if deactivated {
		if err := s.st.RefreshTokensRevokeForUser(ctx, u.ID, s.now()); err != nil {
			return err
		}
	}
	s.Audit(ctx, gathering.AuditUserUpdated, meta, actor.UserID, target, changes(old, u))
	if old.Role != u.Role {
		s.Audit(ctx, gathering.AuditRoleChanged, meta, actor.UserID, target, map[string]any{"old": old.Role, "new": u.Role})
	}
	if deactivated {
		s.Audit(ctx, gathering.AuditUserDeactivated, meta, actor.UserID, target, nil)
	}
	return nil
}

// changes lists the fields that differ, for the audit trail.
func changes(old, u gathering.User) map[string]any {
	d := map[string]any{}
	if old.Name != u.Name {
		d["name"] = map[string]any{"old": old.Name, "new": u.Name}
	}
	if old.Role != u.Role {
		d["role"] = map[string]any{"old": old.Role, "new": u.Role}
	}
	if old.IsActive != u.IsActive {
		d["is_active"] = map[string]any{"old": old.IsActive, "new": u.IsActive}
	}
	return d
}

// SetPassword replaces a user's password (the CLI's reset-password) and
// revokes the user's refresh tokens.
func (s *Service) SetPassword(ctx context.Context, id int64, pw string) error {
	if err := ValidatePassword(pw); err != nil {
		return err
	}
	hash, err := HashPassword(pw, s.cfg.BcryptCost)
	if err != nil {
		return err
	}
	if _, err := s.st.UserUpdate(ctx, store.UserUpdateParams{ID: id, PasswordHash: &hash, At: s.now()}); err != nil {
		return err
	}
	return s.st.RefreshTokensRevokeForUser(ctx, id, s.now())
}
