package sqlitestore

import (
	"context"
	"database/sql"
	"time"

	"github.com/gathering/gathering/internal/store"
)

// scanMeta reads one gathering_meta row, converting its unix-millisecond
// time to UTC; what names the operation in the error.
func scanMeta(row *sql.Row, what, key string) (store.Meta, error) {
	var m store.Meta
	var ms int64
	if err := row.Scan(&m.Key, &m.Value, &ms); err != nil {
		return store.Meta{}, translate(err, "%s meta %q", what, key)
	}
	m.UpdatedAt = time.UnixMilli(ms).UTC()
	return m, nil
}

// MetaGet returns the value of key, or ENOTFOUND.
func (s *Store) MetaGet(ctx context.Context, key string) (store.Meta, error) {
	return scanMeta(s.read.QueryRowContext(ctx,
		`SELECT key, value, updated_at FROM gathering_meta WHERE key = ?`, key), "get", key)
}

// MetaCreate stores key only when it does not exist yet, else ECONFLICT.
func (s *Store) MetaCreate(ctx context.Context, key, value string) (store.Meta, error) {
	return scanMeta(s.write.QueryRowContext(ctx,
		`INSERT INTO gathering_meta (key, value) VALUES (?, ?) RETURNING key, value, updated_at`, key, value), "create", key)
}

// MetaPut stores key, replacing any previous value.
func (s *Store) MetaPut(ctx context.Context, key, value string) (store.Meta, error) {
	return scanMeta(s.write.QueryRowContext(ctx,
		`INSERT INTO gathering_meta (key, value) VALUES (?, ?)
		 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
		 RETURNING key, value, updated_at`, key, value), "put", key)
}
