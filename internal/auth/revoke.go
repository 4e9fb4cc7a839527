package auth

import (
	"context"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// Revoke revokes an access token id until expiresAt: the database first,
// so every instance honours it, then this instance's LRU.
func (s *Service) Revoke(ctx context.Context, jti string, expiresAt time.Time) error {
	if jti == "" {
		return gathering.Errorf(gathering.EINVALID, "token id is empty")
	}
	if err := s.st.RevocationCreate(ctx, jti, expiresAt); err != nil {
		return err
	}
	s.revoked.Add(jti, expiresAt)
	return nil
}

// familyKey is the revocation id that revokes every access token of a
// login family at once (logout, refresh-token reuse).
func familyKey(familyID string) string { return "family:" + familyID }

// revokeFamily revokes every access token issued in a login family, for as
// long as such a token can live.
func (s *Service) revokeFamily(ctx context.Context, familyID string) error {
	return s.Revoke(ctx, familyKey(familyID), s.now().Add(s.cfg.AccessTTL+tokenLeeway))
}

// checkRevoked rejects a revoked token, or a token whose login family was
// revoked. The LRU only remembers revocations (no negative caching), so a
// miss always asks the database; a database failure is EUNAVAILABLE (fail
// closed).
func (s *Service) checkRevoked(ctx context.Context, jti, familyID string) error {
	family := familyKey(familyID)
	if s.revoked.Contains(jti) || (familyID != "" && s.revoked.Contains(family)) {
		return unauthorized("Token revoked", nil)
	}
	revoked, err := s.st.RevocationExists(ctx, jti, family)
	if err != nil {
		return &gathering.Error{Code: gathering.EUNAVAILABLE, Message: "Cannot check token revocation", Err: err}
	}
	if revoked {
		s.revoked.Add(jti, time.Time{})
		return unauthorized("Token revoked", nil)
	}
	return nil
}

// Logout revokes the caller's access token, every other access token of
// its login family, and its refresh tokens. For an API key it only records
// the logout: keys are revoked with RevokeAPIKey.
func (s *Service) Logout(ctx context.Context, p Principal, meta RequestMeta) error {
	if p.TokenID != "" {
		if err := s.Revoke(ctx, p.TokenID, p.ExpiresAt); err != nil {
			return err
		}
	}
	if p.FamilyID != "" {
		if err := s.st.RefreshFamilyRevoke(ctx, p.FamilyID, s.now()); err != nil {
			return err
		}
		if err := s.revokeFamily(ctx, p.FamilyID); err != nil {
			return err
		}
	}
	s.Audit(ctx, gathering.AuditLogout, meta, p.UserID, userTarget(p.UserID), nil)
	return nil
}

// PurgeRevocations deletes the revocations of tokens that have expired, and
// expired refresh tokens, and returns how many rows it deleted. The Purger
// calls it periodically.
func (s *Service) PurgeRevocations(ctx context.Context) (int, error) {
	cutoff := s.now().Add(-tokenLeeway)
	revocations, err := s.st.RevocationPurge(ctx, cutoff)
	if err != nil {
		return 0, err
	}
	refresh, err := s.st.RefreshTokenPurge(ctx, cutoff)
	return revocations + refresh, err
}
