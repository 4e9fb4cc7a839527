package pgstore

import (
	"time"

	"github.com/jackc/pgx/v5"
)

// nullTime returns nil for the zero time, so that it is stored as NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// utc returns *t in UTC, or the zero time for NULL.
func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// nullID returns nil for id 0, so that it is stored as NULL.
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// affectedOne returns ENOTFOUND when a statement meant to change one row
// changed none, and translates err otherwise.
func affectedOne(n int64, err error, format string, args ...any) error {
	if err == nil && n == 0 {
		err = pgx.ErrNoRows
	}
	return translate(err, format, args...)
}
