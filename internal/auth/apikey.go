package auth

import (
	"context"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// CreateAPIKey creates a personal key for owner and returns the key (shown
// once, never stored, logged or audited) with its record. An empty role
// means the owner's role; a role above the owner's is EFORBIDDEN. A zero
// expiresAt means the key never expires; otherwise it must be in the future.
func (s *Service) CreateAPIKey(ctx context.Context, owner Principal, name string, role gathering.Role, expiresAt time.Time, meta RequestMeta) (string, gathering.APIKey, error) {
	name = strings.TrimSpace(name)
	if role == "" {
		role = owner.Role
	}
	if err := s.validateKey(name, role, expiresAt); err != nil {
		return "", gathering.APIKey{}, err
	}
	if !owner.Role.AtLeast(role) {
		return "", gathering.APIKey{}, gathering.Errorf(gathering.EFORBIDDEN, "An API key cannot have a role above its owner's")
	}
	key, prefix := newAPIKey()
	k, err := s.st.APIKeyCreate(ctx, gathering.APIKey{
		UserID: owner.UserID, Name: name, Role: role, Prefix: prefix,
		KeyHash: hashSecret(key), CreatedAt: s.now(), ExpiresAt: expiresAt,
	})
	if err != nil {
		return "", gathering.APIKey{}, err
	}
	s.Audit(ctx, gathering.AuditAPIKeyCreated, meta, owner.UserID, apiKeyTarget(k.ID),
		map[string]any{"name": k.Name, "role": k.Role, "prefix": k.Prefix, "owner_id": k.UserID})
	return key, k, nil
}

// validateKey checks the fields of a new key.
func (s *Service) validateKey(name string, role gathering.Role, expiresAt time.Time) error {
	var fe fieldErrors
	fe.check(nameFieldError(name))
	fe.check(roleFieldError("role", role))
	if !expiresAt.IsZero() && !expiresAt.After(s.now()) {
		fe = append(fe, gathering.FieldError{Field: "expires_at", Message: "must be in the future"})
	}
	return fe.err("Invalid API key")
}

// ListAPIKeys returns the caller's keys, or every user's when all is set
// (admins only, else EFORBIDDEN), newest first, revoked ones included.
func (s *Service) ListAPIKeys(ctx context.Context, p Principal, all bool) ([]gathering.APIKey, error) {
	if !all {
		return s.st.APIKeyList(ctx, p.UserID)
	}
	if !p.Role.AtLeast(gathering.RoleAdmin) {
		return nil, gathering.Errorf(gathering.EFORBIDDEN, "Only administrators can list every API key")
	}
	return s.st.APIKeyList(ctx, 0)
}

// RevokeAPIKey revokes a key of the caller, or any key for an admin. A key
// the caller may not see is ENOTFOUND, so key ids of others do not leak.
func (s *Service) RevokeAPIKey(ctx context.Context, p Principal, id int64, meta RequestMeta) error {
	k, err := s.visibleKey(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.st.APIKeyRevoke(ctx, id, s.now()); err != nil {
		return err
	}
	s.Audit(ctx, gathering.AuditAPIKeyRevoked, meta, p.UserID, apiKeyTarget(id),
		map[string]any{"prefix": k.Prefix, "owner_id": k.UserID})
	return nil
}

// visibleKey finds key id among those p may manage.
func (s *Service) visibleKey(ctx context.Context, p Principal, id int64) (gathering.APIKey, error) {
	owner := p.UserID
	if p.Role.AtLeast(gathering.RoleAdmin) {
		owner = 0
	}
	keys, err := s.st.APIKeyList(ctx, owner)
	if err != nil {
		return gathering.APIKey{}, err
	}
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return gathering.APIKey{}, gathering.Errorf(gathering.ENOTFOUND, "API key %d not found", id)
}
