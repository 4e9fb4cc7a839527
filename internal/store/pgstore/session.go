package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// SessionAcquire takes the session's lease for owner until until, in one
// conditional UPDATE, when nobody holds it, its lease ended at or before now,
// or owner already holds it (the lease is then extended); it reports
// whether it did. Concurrent callers on one row take turns on its row lock
// and each re-checks the condition on the row the previous one left, so
// exactly one of them wins a free lease. ENOTFOUND when the session does not
// exist.
func (s *Store) SessionAcquire(ctx context.Context, id, owner string, now, until time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx,
		`UPDATE chat_sessions SET lease_owner = $2, lease_until = $4
		 WHERE id = $1 AND (lease_owner IS NULL OR lease_until <= $3 OR lease_owner = $2)`,
		id, owner, now, until)
	if err != nil {
		return false, translate(err, "acquire lease of session %s", id)
	}
	if tag.RowsAffected() > 0 {
		return true, nil
	}
	// Nothing changed: the session is missing, or another owner holds it.
	var exists bool
	err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM chat_sessions WHERE id = $1)`, id).Scan(&exists)
	if err == nil && !exists {
		err = pgx.ErrNoRows
	}
	return false, translate(err, "acquire lease of session %s", id)
}

// SessionRelease frees the session's lease if owner holds it; a lease owner
// does not hold, or a missing session, is left alone without error.
func (s *Store) SessionRelease(ctx context.Context, id, owner string) error {
	_, err := s.pool.Exec(ctx,
		`UPDATE chat_sessions SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2`,
		id, owner)
	return translate(err, "release lease of session %s", id)
}
