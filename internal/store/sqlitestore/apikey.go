package sqlitestore

import (
	"context"
	"database/sql"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// apiKeyColumns are the columns scanAPIKey reads, in order.
const apiKeyColumns = `id, user_id, name, role, prefix, key_hash, created_at, expires_at, last_used_at, revoked_at`

// scanAPIKey reads one api_keys row, converting its times to UTC.
func scanAPIKey(row scanner) (gathering.APIKey, error) {
	var k gathering.APIKey
	var created int64
	var expires, used, revoked sql.NullInt64
	err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Role, &k.Prefix, &k.KeyHash, &created, &expires, &used, &revoked)
	k.CreatedAt, k.ExpiresAt, k.LastUsedAt, k.RevokedAt = fromMS(created), fromNullMS(expires), fromNullMS(used), fromNullMS(revoked)
	return k, err
}

// APIKeyCreate stores a key (its hash) and returns it with its id.
func (s *Store) APIKeyCreate(ctx context.Context, k gathering.APIKey) (gathering.APIKey, error) {
	k, err := scanAPIKey(s.write.QueryRowContext(ctx,
		`INSERT INTO api_keys (user_id, name, role, prefix, key_hash, created_at, expires_at, last_used_at, revoked_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+apiKeyColumns,
		k.UserID, k.Name, k.Role, k.Prefix, k.KeyHash, k.CreatedAt.UnixMilli(),
		nullMS(k.ExpiresAt), nullMS(k.LastUsedAt), nullMS(k.RevokedAt)))
	return k, translate(err, "create API key")
}

// APIKeyGetByHash returns a key by the hash of its secret, or ENOTFOUND.
func (s *Store) APIKeyGetByHash(ctx context.Context, keyHash string) (gathering.APIKey, error) {
	k, err := scanAPIKey(s.read.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE key_hash = ?`, keyHash))
	return k, translate(err, "get API key")
}

// APIKeyList returns the keys of a user (every user's when userID is 0),
// newest first, revoked ones included.
func (s *Store) APIKeyList(ctx context.Context, userID int64) ([]gathering.APIKey, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE ?1 = 0 OR user_id = ?1 ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, translate(err, "list API keys")
	}
	keys, err := collect(rows, scanAPIKey)
	return keys, translate(err, "list API keys")
}

// APIKeyRevoke marks a key revoked, keeping the first revocation time;
// ENOTFOUND when it does not exist.
func (s *Store) APIKeyRevoke(ctx context.Context, id int64, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, at.UnixMilli(), id)
	return affectedOne(res, err, "revoke API key %d", id)
}

// APIKeyTouch records that a key was used; ENOTFOUND when it does not exist.
func (s *Store) APIKeyTouch(ctx context.Context, id int64, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, at.UnixMilli(), id)
	return affectedOne(res, err, "touch API key %d", id)
}
