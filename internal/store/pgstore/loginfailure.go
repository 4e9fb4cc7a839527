package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// LoginFailureRecord adds one consecutive failed login for key, in a single
// upsert, and returns the count so far.
func (s *Store) LoginFailureRecord(ctx context.Context, key string, at time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx,
		`INSERT INTO login_failures (key, failures, last_failed_at) VALUES ($1, 1, $2)
		 ON CONFLICT (key) DO UPDATE SET failures = login_failures.failures + 1, last_failed_at = excluded.last_failed_at
		 RETURNING failures`, key, at).Scan(&n)
	return n, translate(err, "record failed login")
}

// LoginFailureCount returns the consecutive failures of key and when the
// last one happened (0 and zero time when none).
func (s *Store) LoginFailureCount(ctx context.Context, key string) (int, time.Time, error) {
	var n int
	var at time.Time
	err := s.pool.QueryRow(ctx, `SELECT failures, last_failed_at FROM login_failures WHERE key = $1`, key).Scan(&n, &at)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, time.Time{}, nil
	case err != nil:
		return 0, time.Time{}, translate(err, "count failed logins")
	}
	return n, at.UTC(), nil
}

// LoginFailureReset forgets the failures of key.
func (s *Store) LoginFailureReset(ctx context.Context, key string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, key)
	return translate(err, "reset failed logins")
}
