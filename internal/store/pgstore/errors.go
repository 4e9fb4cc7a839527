package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gathering/gathering/internal/gathering"
)

// translate turns a pgx or PostgreSQL error into a *gathering.Error whose
// message names what failed, keeping err as the cause. It returns nil for a
// nil err.
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
	pgErr, isPg := errors.AsType[*pgconn.PgError](err)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return gathering.ENOTFOUND, "not found"
	case isPg && pgErr.Code == "23505":
		return gathering.ECONFLICT, "already exists"
	case isPg && pgErr.Code == "57014",
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), pgconn.Timeout(err):
		return gathering.ETIMEOUT, "timed out or canceled"
	case isPg && unavailableState(pgErr.Code), !isPg && connectionFailure(err):
		return gathering.EUNAVAILABLE, "database unavailable"
	}
	return gathering.EINTERNAL, "failed"
}

// unavailableState reports SQLSTATEs that mean the server cannot serve now:
// connection exceptions (08), too many connections (53300) and shutdown or
// crash recovery (57P01–57P03).
func unavailableState(state string) bool {
	return strings.HasPrefix(state, "08") || state == "53300" || strings.HasPrefix(state, "57P0")
}

// connectionFailure reports errors raised on the client side before or while
// talking to the server: dialing or a broken socket.
func connectionFailure(err error) bool {
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return pgconn.SafeToRetry(err) || errors.Is(err, net.ErrClosed)
}
