package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gathering/gathering/internal/gathering"
)

// translate turns a database/sql or SQLite error into a *gathering.Error
// whose message names what failed, keeping err as the cause. It returns nil
// for a nil err.
func translate(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	code, outcome := classify(err)
	return &gathering.Error{Code: code, Message: what + ": " + outcome, Err: err}
}

// classify picks the error code for err and a few words on what happened.
func classify(err error) (code, outcome string) {
	var ext, primary int
	if sqlErr, ok := errors.AsType[*sqlite.Error](err); ok {
		ext, primary = sqlErr.Code(), sqlErr.Code()&0xff
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return gathering.ENOTFOUND, "not found"
	case ext == sqlite3.SQLITE_CONSTRAINT_UNIQUE, ext == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return gathering.ECONFLICT, "already exists"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), primary == sqlite3.SQLITE_INTERRUPT:
		return gathering.ETIMEOUT, "timed out or canceled"
	case primary == sqlite3.SQLITE_BUSY, primary == sqlite3.SQLITE_LOCKED, errors.Is(err, sql.ErrConnDone):
		return gathering.EUNAVAILABLE, "database busy or closed"
	}
	return gathering.EINTERNAL, "failed"
}
