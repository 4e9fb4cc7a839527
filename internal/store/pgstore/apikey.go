package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gathering/gathering/internal/gathering"
)

// apiKeyColumns are the columns scanAPIKey reads, in order.
const apiKeyColumns = `id, user_id, name, role, prefix, key_hash, created_at, expires_at, last_used_at, revoked_at`

// scanAPIKey reads one api_keys row, with its times in UTC.
func scanAPIKey(row pgx.Row) (gathering.APIKey, error) {
	var k gathering.APIKey
	var created time.Time
	var expires, used, revoked *time.Time
	err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Role, &k.Prefix, &k.KeyHash, &created, &expires, &used, &revoked)
	k.CreatedAt, k.ExpiresAt, k.LastUsedAt, k.RevokedAt = created.UTC(), utc(expires), utc(used), utc(revoked)
	return k, err
}

// APIKeyCreate stores a key (its hash) and returns it with its id.
func (s *Store) APIKeyCreate(ctx context.Context, k gathering.APIKey) (gathering.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx,
		`INSERT INTO api_keys (user_id, name, role, prefix, key_hash, created_at, expires_at, last_used_at, revoked_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+apiKeyColumns,
		k.UserID, k.Name, k.Role, k.Prefix, k.KeyHash, k.CreatedAt,
		nullTime(k.ExpiresAt), nullTime(k.LastUsedAt), nullTime(k.RevokedAt)))
	return k, translate(err, "create API key")
}

// APIKeyGetByHash returns a key by the hash of its secret, or ENOTFOUND.
func (s *Store) APIKeyGetByHash(ctx context.Context, keyHash string) (gathering.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE key_hash = $1`, keyHash))
	return k, translate(err, "get API key")
}

// APIKeyList returns the keys of a user (every user's when userID is 0),
// newest first, revoked ones included.
func (s *Store) APIKeyList(ctx context.Context, userID int64) ([]gathering.APIKey, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE $1 = 0 OR user_id = $1 ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, translate(err, "list API keys")
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (gathering.APIKey, error) { return scanAPIKey(row) })
	return keys, translate(err, "list API keys")
}

// APIKeyRevoke marks a key revoked, keeping the first revocation time;
// ENOTFOUND when it does not exist.
func (s *Store) APIKeyRevoke(ctx context.Context, id int64, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, id, at)
	return affectedOne(tag.RowsAffected(), err, "revoke API key %d", id)
}

// APIKeyTouch records that a key was used; ENOTFOUND when it does not exist.
func (s *Store) APIKeyTouch(ctx context.Context, id int64, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, id, at)
	return affectedOne(tag.RowsAffected(), err, "touch API key %d", id)
}
