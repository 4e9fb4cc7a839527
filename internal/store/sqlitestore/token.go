package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// refreshColumns are the columns scanRefresh reads, in order.
const refreshColumns = `id, family_id, user_id, token_hash, created_at, expires_at, used_at, revoked_at`

// scanRefresh reads one refresh_tokens row, converting its times to UTC.
func scanRefresh(row scanner) (gathering.RefreshToken, error) {
	var t gathering.RefreshToken
	var created, expires int64
	var used, revoked sql.NullInt64
	err := row.Scan(&t.ID, &t.FamilyID, &t.UserID, &t.TokenHash, &created, &expires, &used, &revoked)
	t.CreatedAt, t.ExpiresAt, t.UsedAt, t.RevokedAt = fromMS(created), fromMS(expires), fromNullMS(used), fromNullMS(revoked)
	return t, err
}

// RefreshTokenCreate stores a new refresh token.
func (s *Store) RefreshTokenCreate(ctx context.Context, t gathering.RefreshToken) error {
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO refresh_tokens (`+refreshColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.FamilyID, t.UserID, t.TokenHash, t.CreatedAt.UnixMilli(), t.ExpiresAt.UnixMilli(),
		nullMS(t.UsedAt), nullMS(t.RevokedAt))
	return translate(err, "create refresh token")
}

// RefreshTokenUse marks the token used in one conditional UPDATE, so that of
// concurrent uses exactly one wins. When none is updated it reads the token:
// ENOTFOUND when missing, else the token with ECONFLICT.
func (s *Store) RefreshTokenUse(ctx context.Context, tokenHash string, at time.Time) (gathering.RefreshToken, error) {
	t, err := scanRefresh(s.write.QueryRowContext(ctx,
		`UPDATE refresh_tokens SET used_at = ?2
		 WHERE token_hash = ?1 AND used_at IS NULL AND revoked_at IS NULL
		 RETURNING `+refreshColumns, tokenHash, at.UnixMilli()))
	if err == nil {
		t.UsedAt = time.Time{} // as it was before the update
		return t, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return gathering.RefreshToken{}, translate(err, "use refresh token")
	}
	t, err = scanRefresh(s.read.QueryRowContext(ctx, `SELECT `+refreshColumns+` FROM refresh_tokens WHERE token_hash = ?`, tokenHash))
	if err != nil {
		return gathering.RefreshToken{}, translate(err, "use refresh token")
	}
	return t, gathering.Errorf(gathering.ECONFLICT, "refresh token already used or revoked")
}

// RefreshFamilyRevoke revokes every token of a family.
func (s *Store) RefreshFamilyRevoke(ctx context.Context, familyID string, at time.Time) error {
	_, err := s.write.ExecContext(ctx,
		`UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`, at.UnixMilli(), familyID)
	return translate(err, "revoke refresh token family")
}

// RefreshTokensRevokeForUser revokes every refresh token of a user.
func (s *Store) RefreshTokensRevokeForUser(ctx context.Context, userID int64, at time.Time) error {
	_, err := s.write.ExecContext(ctx,
		`UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, at.UnixMilli(), userID)
	return translate(err, "revoke refresh tokens of user %d", userID)
}

// RefreshTokenPurge deletes refresh tokens that expired before t.
func (s *Store) RefreshTokenPurge(ctx context.Context, before time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE expires_at < ?`, before.UnixMilli())
	if err != nil {
		return 0, translate(err, "purge refresh tokens")
	}
	n, err := res.RowsAffected()
	return int(n), translate(err, "purge refresh tokens")
}

// RevocationCreate records a revoked access token id until it expires;
// recording it twice is not an error.
func (s *Store) RevocationCreate(ctx context.Context, jti string, expiresAt time.Time) error {
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING`, jti, expiresAt.UnixMilli())
	return translate(err, "revoke access token")
}

// RevocationExists reports whether either id is revoked.
func (s *Store) RevocationExists(ctx context.Context, jti, familyKey string) (bool, error) {
	var ok bool
	err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ? OR jti = ?)`, jti, familyKey).Scan(&ok)
	return ok, translate(err, "check access token revocation")
}

// RevocationPurge deletes revocations that expired before t and returns how
// many it deleted.
func (s *Store) RevocationPurge(ctx context.Context, before time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM revoked_tokens WHERE expires_at < ?`, before.UnixMilli())
	if err != nil {
		return 0, translate(err, "purge access token revocations")
	}
	n, err := res.RowsAffected()
	return int(n), translate(err, "purge access token revocations")
}
