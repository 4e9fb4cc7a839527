package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gathering/gathering/internal/gathering"
)

// refreshColumns are the columns scanRefresh reads, in order.
const refreshColumns = `id, family_id, user_id, token_hash, created_at, expires_at, used_at, revoked_at`

// scanRefresh reads one refresh_tokens row, with its times in UTC.
func scanRefresh(row pgx.Row) (gathering.RefreshToken, error) {
	var t gathering.RefreshToken
	var created, expires time.Time
	var used, revoked *time.Time
	err := row.Scan(&t.ID, &t.FamilyID, &t.UserID, &t.TokenHash, &created, &expires, &used, &revoked)
	t.CreatedAt, t.ExpiresAt, t.UsedAt, t.RevokedAt = created.UTC(), expires.UTC(), utc(used), utc(revoked)
	return t, err
}

// RefreshTokenCreate stores a new refresh token.
func (s *Store) RefreshTokenCreate(ctx context.Context, t gathering.RefreshToken) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO refresh_tokens (`+refreshColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		t.ID, t.FamilyID, t.UserID, t.TokenHash, t.CreatedAt, t.ExpiresAt, nullTime(t.UsedAt), nullTime(t.RevokedAt))
	return translate(err, "create refresh token")
}

// RefreshTokenUse marks the token used in one conditional UPDATE, so that of
// concurrent uses, on any instance, exactly one wins. When none is updated it
// reads the token: ENOTFOUND when missing, else the token with ECONFLICT.
func (s *Store) RefreshTokenUse(ctx context.Context, tokenHash string, at time.Time) (gathering.RefreshToken, error) {
	t, err := scanRefresh(s.pool.QueryRow(ctx,
		`UPDATE refresh_tokens SET used_at = $2
		 WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL
		 RETURNING `+refreshColumns, tokenHash, at))
	if err == nil {
		t.UsedAt = time.Time{} // as it was before the update
		return t, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return gathering.RefreshToken{}, translate(err, "use refresh token")
	}
	t, err = scanRefresh(s.pool.QueryRow(ctx, `SELECT `+refreshColumns+` FROM refresh_tokens WHERE token_hash = $1`, tokenHash))
	if err != nil {
		return gathering.RefreshToken{}, translate(err, "use refresh token")
	}
	return t, gathering.Errorf(gathering.ECONFLICT, "refresh token already used or revoked")
}

// RefreshFamilyRevoke revokes every token of a family.
func (s *Store) RefreshFamilyRevoke(ctx context.Context, familyID string, at time.Time) error {
	_, err := s.pool.Exec(ctx,
		`UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`, familyID, at)
	return translate(err, "revoke refresh token family")
}

// RefreshTokensRevokeForUser revokes every refresh token of a user.
func (s *Store) RefreshTokensRevokeForUser(ctx context.Context, userID int64, at time.Time) error {
	_, err := s.pool.Exec(ctx,
		`UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, userID, at)
	return translate(err, "revoke refresh tokens of user %d", userID)
}

// RefreshTokenPurge deletes refresh tokens that expired before t.
func (s *Store) RefreshTokenPurge(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM refresh_tokens WHERE expires_at < $1`, before)
	return int(tag.RowsAffected()), translate(err, "purge refresh tokens")
}

// RevocationCreate records a revoked access token id until it expires;
// recording it twice is not an error.
func (s *Store) RevocationCreate(ctx context.Context, jti string, expiresAt time.Time) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING`, jti, expiresAt)
	return translate(err, "revoke access token")
}

// RevocationExists reports whether either id is revoked.
func (s *Store) RevocationExists(ctx context.Context, jti, familyKey string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1 OR jti = $2)`, jti, familyKey).Scan(&ok)
	return ok, translate(err, "check access token revocation")
}

// RevocationPurge deletes revocations that expired before t and returns how
// many it deleted.
func (s *Store) RevocationPurge(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM revoked_tokens WHERE expires_at < $1`, before)
	return int(tag.RowsAffected()), translate(err, "purge access token revocations")
}
