package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/gathering/gathering/internal/store"
)

// scanMeta reads one gathering_meta row, with its time in UTC; what names
// the operation in the error.
func scanMeta(row pgx.Row, what, key string) (store.Meta, error) {
	var m store.Meta
	if err := row.Scan(&m.Key, &m.Value, &m.UpdatedAt); err != nil {
		return store.Meta{}, translate(err, "%s meta %q", what, key)
	}
	m.UpdatedAt = m.UpdatedAt.UTC()
	return m, nil
}

// MetaGet returns the value of key, or ENOTFOUND.
func (s *Store) MetaGet(ctx context.Context, key string) (store.Meta, error) {
	return scanMeta(s.pool.QueryRow(ctx,
		`SELECT key, value, updated_at FROM gathering_meta WHERE key = $1`, key), "get", key)
}

// MetaCreate stores key only when it does not exist yet, else ECONFLICT.
func (s *Store) MetaCreate(ctx context.Context, key, value string) (store.Meta, error) {
	return scanMeta(s.pool.QueryRow(ctx,
		`INSERT INTO gathering_meta (key, value) VALUES ($1, $2) RETURNING key, value, updated_at`, key, value), "create", key)
}

// MetaPut stores key, replacing any previous value.
func (s *Store) MetaPut(ctx context.Context, key, value string) (store.Meta, error) {
	return scanMeta(s.pool.QueryRow(ctx,
		`INSERT INTO gathering_meta (key, value) VALUES ($1, $2)
		 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()
		 RETURNING key, value, updated_at`, key, value), "put", key)
}
