package auth

import (
	"context"
	"strings"

	"github.com/gathering/gathering/internal/gathering"
)

// errBadRefresh is the answer to an unusable refresh token.
var errBadRefresh = &gathering.Error{Code: gathering.EUNAUTHORIZED, Message: "Invalid refresh token"}

// issuePair signs an access token and stores a new refresh token, both in
// refresh family familyID.
func (s *Service) issuePair(ctx context.Context, u gathering.User, familyID string) (TokenPair, error) {
	access, claims, err := s.tokens.issue(u, familyID)
	if err != nil {
		return TokenPair{}, err
	}
	refresh := newRefreshToken()
	now := s.now()
	err = s.st.RefreshTokenCreate(ctx, gathering.RefreshToken{
		ID:        randomID(),
		FamilyID:  familyID,
		UserID:    u.ID,
		TokenHash: hashSecret(refresh),
		CreatedAt: now,
		ExpiresAt: now.Add(s.cfg.RefreshTTL),
	})
	if err != nil {
		return TokenPair{}, err
	}
	exp := claims.ExpiresAt.Time
	return TokenPair{
		AccessToken:  access,
		RefreshToken: refresh,
		ExpiresIn:    int(exp.Sub(now).Seconds()),
		ExpiresAt:    exp,
	}, nil
}

// Refresh rotates a refresh token: it is marked used and a new pair in the
// same family is issued. Presenting a token that was already used (or whose
// family was revoked) revokes the whole family and is audited. Every
// rejection is EUNAUTHORIZED.
func (s *Service) Refresh(ctx context.Context, refreshToken string, meta RequestMeta) (TokenPair, error) {
	if !strings.HasPrefix(refreshToken, RefreshTokenPrefix) {
		return TokenPair{}, errBadRefresh
	}
	hash := hashSecret(refreshToken)
	rt, err := s.st.RefreshTokenUse(ctx, hash, s.now())
	if err != nil {
		return TokenPair{}, s.refreshFailed(ctx, rt, meta, err)
	}
	if !sameHash(rt.TokenHash, hash) || !rt.ExpiresAt.After(s.now()) {
		return TokenPair{}, errBadRefresh
	}
	u, err := s.activeUser(ctx, rt.UserID)
	if err != nil {
		return TokenPair{}, err
	}
	pair, err := s.issuePair(ctx, u, rt.FamilyID)
	if err != nil {
		return TokenPair{}, err
	}
	s.Audit(ctx, gathering.AuditTokenRefreshed, meta, u.ID, userTarget(u.ID), map[string]any{"family_id": rt.FamilyID})
	return pair, nil
}

// refreshFailed maps a RefreshTokenUse error: a reuse revokes the family.
func (s *Service) refreshFailed(ctx context.Context, rt gathering.RefreshToken, meta RequestMeta, err error) error {
	switch gathering.ErrorCode(err) {
	case gathering.ENOTFOUND:
		return errBadRefresh
	case gathering.ECONFLICT:
		if rt.FamilyID == "" {
			return errBadRefresh
		}
	default:
		return err
	}
	if rerr := s.st.RefreshFamilyRevoke(ctx, rt.FamilyID, s.now()); rerr != nil {
		return rerr
	}
	if rerr := s.revokeFamily(ctx, rt.FamilyID); rerr != nil {
		return rerr
	}
	s.Audit(ctx, gathering.AuditRefreshReuseDetected, meta, rt.UserID, userTarget(rt.UserID), map[string]any{"family_id": rt.FamilyID})
	return errBadRefresh
}

// activeUser loads a user for a credential: a missing or inactive user is
// EUNAUTHORIZED; other store failures pass through.
func (s *Service) activeUser(ctx context.Context, id int64) (gathering.User, error) {
	u, err := s.st.UserGetByID(ctx, id)
	if gathering.ErrorCode(err) == gathering.ENOTFOUND {
		return gathering.User{}, unauthorized("Unknown user", err)
	}
	if err != nil {
		return gathering.User{}, err
	}
	if !u.IsActive {
		return gathering.User{}, unauthorized("Account is deactivated", nil)
	}
	return u, nil
}
