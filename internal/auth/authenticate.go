package auth

import (
	"context"
	"log/slog"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// apiKeyTouchEvery limits how often an API key's last_used_at is written:
// at most once per key and interval, so scripts do not turn every request
// into a database write.
const apiKeyTouchEvery = time.Minute

// Authenticate turns a bearer credential into a Principal. An API key
// ("gth_…") is looked up by hash; anything else must be a valid access
// token that is not revoked. Either way the owner must be an active user,
// and the role in effect is the user's current role (capped by the key's
// role for an API key). Rejections are EUNAUTHORIZED with a short reason; a
// store failure while checking revocation is EUNAVAILABLE.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	if len(token) > maxTokenLen {
		return Principal{}, unauthorized("Malformed token", nil)
	}
	if isAPIKey(token) {
		return s.authenticateAPIKey(ctx, token)
	}
	return s.authenticateAccess(ctx, token)
}

// authenticateAccess checks an access token.
func (s *Service) authenticateAccess(ctx context.Context, token string) (Principal, error) {
	claims, userID, err := s.tokens.parse(token)
	if err != nil {
		return Principal{}, err
	}
	if err := s.checkRevoked(ctx, claims.ID, claims.FamilyID); err != nil {
		return Principal{}, err
	}
	u, err := s.activeUser(ctx, userID)
	if err != nil {
		return Principal{}, err
	}
	return Principal{
		UserID:    u.ID,
		Email:     u.Email,
		Role:      u.Role,
		TokenID:   claims.ID,
		FamilyID:  claims.FamilyID,
		ExpiresAt: claims.ExpiresAt.UTC(),
		User:      u,
	}, nil
}

// authenticateAPIKey checks an API key.
func (s *Service) authenticateAPIKey(ctx context.Context, key string) (Principal, error) {
	hash := hashSecret(key)
	k, err := s.st.APIKeyGetByHash(ctx, hash)
	if gathering.ErrorCode(err) == gathering.ENOTFOUND {
		return Principal{}, unauthorized("Invalid API key", nil)
	}
	if err != nil {
		return Principal{}, err
	}
	if err := s.usableKey(k, hash); err != nil {
		return Principal{}, err
	}
	u, err := s.activeUser(ctx, k.UserID)
	if err != nil {
		return Principal{}, err
	}
	s.touchKey(ctx, k)
	return Principal{
		UserID:    u.ID,
		Email:     u.Email,
		Role:      minRole(k.Role, u.Role),
		ExpiresAt: k.ExpiresAt,
		APIKeyID:  k.ID,
		User:      u,
	}, nil
}

// usableKey checks the stored hash in constant time, then revocation and
// expiry.
func (s *Service) usableKey(k gathering.APIKey, hash string) error {
	switch {
	case !sameHash(k.KeyHash, hash):
		return unauthorized("Invalid API key", nil)
	case !k.RevokedAt.IsZero():
		return unauthorized("API key revoked", nil)
	case !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(s.now()):
		return unauthorized("API key expired", nil)
	}
	return nil
}

// touchKey records the key's use, at most once per apiKeyTouchEvery; a
// failure is logged only.
func (s *Service) touchKey(ctx context.Context, k gathering.APIKey) {
	now := s.now()
	if now.Sub(k.LastUsedAt) < apiKeyTouchEvery {
		return
	}
	if err := s.st.APIKeyTouch(ctx, k.ID, now); err != nil {
		s.log.WarnContext(ctx, "cannot record API key use", slog.Int64("api_key_id", k.ID), slog.Any("error", err))
	}
}

// minRole returns the less privileged of two roles.
func minRole(a, b gathering.Role) gathering.Role {
	if a.AtLeast(b) {
		return b
	}
	return a
}
