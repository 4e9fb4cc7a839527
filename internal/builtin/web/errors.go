package web

import (
	"context"
	"errors"
	"net"
	"syscall"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/netguard"
)

// transportError maps a failed request to host ("name:port" as in the URL)
// to a gathering error. Messages name the host only, never the full URL,
// which may carry credentials or tokens; the cause is kept in Err.
func transportError(host string, err error) error {
	var e *gathering.Error
	if be, ok := errors.AsType[*netguard.BlockedError](err); ok {
		e = gathering.Errorf(gathering.EFORBIDDEN,
			"The destination %q is not allowed (%s); an operator can allow it with GATHERING_OUTBOUND_ALLOWLIST.",
			be.Host, be.Reason)
	} else {
		e = unreachable(host, err)
	}
	e.Err = err
	return e
}

// unreachable maps a failure other than a refused destination.
func unreachable(host string, err error) *gathering.Error {
	switch {
	case errors.Is(err, netguard.ErrTooManyRedirects):
		return gathering.Errorf(gathering.EINVALID, "The request to %q was redirected too many times.", host)
	case isTimeout(err):
		return gathering.Errorf(gathering.ETIMEOUT, "The request to %q ran out of time.", host)
	}
	return gathering.Errorf(gathering.EUNAVAILABLE, "The request to %q failed%s.", host, failure(err))
}

// isTimeout reports whether err is a deadline or a network timeout.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}

// failure names a common cause of err safely, or returns "".
func failure(err error) string {
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return ": the host name cannot be resolved"
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return ": the connection was refused"
	}
	return ""
}
