package sqlitestore

import (
	"context"
	"database/sql"
	"time"
)

// SessionAcquire takes the session's lease for owner until until, in one
// conditional UPDATE on the writer, when nobody holds it, its lease ended at
// or before now, or owner already holds it (the lease is then extended); it
// reports whether it did. Times are compared in unix milliseconds. ENOTFOUND
// when the session does not exist.
func (s *Store) SessionAcquire(ctx context.Context, id, owner string, now, until time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx,
		`UPDATE chat_sessions SET lease_owner = ?2, lease_until = ?4
		 WHERE id = ?1 AND (lease_owner IS NULL OR lease_until <= ?3 OR lease_owner = ?2)`,
		id, owner, now.UnixMilli(), until.UnixMilli())
	if err != nil {
		return false, translate(err, "acquire lease of session %s", id)
	}
	n, err := res.RowsAffected()
	if err != nil || n > 0 {
		return err == nil, translate(err, "acquire lease of session %s", id)
	}
	// Nothing changed: the session is missing, or another owner holds it.
	var exists bool
	err = s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM chat_sessions WHERE id = ?)`, id).Scan(&exists)
	if err == nil && !exists {
		err = sql.ErrNoRows
	}
	return false, translate(err, "acquire lease of session %s", id)
}

// SessionRelease frees the session's lease, on the writer, if owner holds
// it; a lease owner does not hold, or a missing session, is left alone
// without error.
func (s *Store) SessionRelease(ctx context.Context, id, owner string) error {
	_, err := s.write.ExecContext(ctx,
		`UPDATE chat_sessions SET lease_owner = NULL, lease_until = NULL WHERE id = ?1 AND lease_owner = ?2`,
		id, owner)
	return translate(err, "release lease of session %s", id)
}
