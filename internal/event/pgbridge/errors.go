package pgbridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gathering/gathering/internal/gathering"
)

// translate turns a pgx or PostgreSQL error into a *gathering.Error whose
// message names what failed, keeping err as the cause. It returns nil for a
// nil err. The bus never sees a pgx error.
func translate(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*gathering.Error](err); ok {
		return err
	}
	code := gathering.EUNAVAILABLE
	switch pgErr, isPg := errors.AsType[*pgconn.PgError](err); {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err):
		code = gathering.ETIMEOUT
	case isPg && pgErr.Code == "57014":
		code = gathering.ETIMEOUT
	case isPg && !unavailableState(pgErr.Code):
		code = gathering.EINTERNAL
	}
	return &gathering.Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// unavailableState reports SQLSTATEs that mean the server cannot serve now:
// connection exceptions (08), too many connections (53300) and shutdown or
// crash recovery (57P01–57P03).
func unavailableState(state string) bool {
	return len(state) == 5 && (state[:2] == "08" || state == "53300" || state[:4] == "57P0")
}
