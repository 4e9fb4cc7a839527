package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// LoginFailureRecord adds one consecutive failed login for key, in a single
// upsert, and returns the count so far.
func (s *Store) LoginFailureRecord(ctx context.Context, key string, at time.Time) (int, error) {
	var n int
	err := s.write.QueryRowContext(ctx,
		`INSERT INTO login_failures (key, failures, last_failed_at) VALUES (?, 1, ?)
		 ON CONFLICT (key) DO UPDATE SET failures = failures + 1, last_failed_at = excluded.last_failed_at
		 RETURNING failures`, key, at.UnixMilli()).Scan(&n)
	return n, translate(err, "record failed login")
}

// LoginFailureCount returns the consecutive failures of key and when the
// last one happened (0 and zero time when none).
func (s *Store) LoginFailureCount(ctx context.Context, key string) (int, time.Time, error) {
	var n int
	var at int64
	err := s.read.QueryRowContext(ctx, `SELECT failures, last_failed_at FROM login_failures WHERE key = ?`, key).Scan(&n, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, time.Time{}, nil
	case err != nil:
		return 0, time.Time{}, translate(err, "count failed logins")
	}
	return n, fromMS(at), nil
}

// LoginFailureReset forgets the failures of key.
func (s *Store) LoginFailureReset(ctx context.Context, key string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, key)
	return translate(err, "reset failed logins")
}
