package gathering

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Engines and stores return these; the HTTP layer maps each to
// one status code. Anything without a code is an internal error.
const (
	ECONFLICT     = "conflict"     // the resource exists or is in the wrong state
	EINTERNAL     = "internal"     // a bug or an unexpected failure
	EINVALID      = "invalid"      // the input fails validation
	ENOTFOUND     = "not_found"    // the resource does not exist
	EUNAVAILABLE  = "unavailable"  // a dependency is down or the server is stopping
	ETIMEOUT      = "timeout"      // the operation ran out of time
	ETOOLARGE     = "too_large"    // the input exceeds a size limit
	EMALFORMED    = "malformed"    // the input cannot be parsed at all
	EUNSUPPORTED  = "unsupported"  // the media type or operation is not supported
	EUNAUTHORIZED = "unauthorized" // the caller is not authenticated
	EFORBIDDEN    = "forbidden"    // the caller may not do this
	ERATELIMITED  = "rate_limited" // too many requests; Error.RetryAfter says when to retry
)

// FieldError names one invalid input field and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an application error: a code from the list above, a message that
// is safe to show to the caller, optional field-level details, and the
// underlying cause (never shown to the caller).
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	Err     error
	// RetryAfter tells an ERATELIMITED or EUNAVAILABLE caller when to try
	// again; zero when unknown.
	RetryAfter time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error carrying field-level details.
func Invalid(message string, fields ...FieldError) *Error {
	return &Error{Code: EINVALID, Message: message, Fields: fields}
}

// ErrorCode returns the code of the first Error in err's chain, or EINTERNAL
// when there is none. A nil error has no code.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of the first Error in err's
// chain, or a generic message for anything else.
func ErrorMessage(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return "An internal error occurred."
}

// ErrorFields returns the field-level details of the first Error in err's
// chain.
func ErrorFields(err error) []FieldError {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Fields
	}
	return nil
}

// ErrorRetryAfter returns the RetryAfter of the first Error in err's chain.
func ErrorRetryAfter(err error) time.Duration {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.RetryAfter
	}
	return 0
}

// RenameFields returns err with the field of each of its field errors
// passed through rename, when err is an *Error with field errors (a copy:
// err itself is left as it is); any other error is returned as it is.
func RenameFields(err error, rename func(field string) string) error {
	e, ok := errors.AsType[*Error](err)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	c := *e
	c.Fields = make([]FieldError, len(e.Fields))
	for i, f := range e.Fields {
		f.Field = rename(f.Field)
		c.Fields[i] = f
	}
	return &c
}
