package auth

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/gathering"
)

// Input limits.
const (
	MaxEmailLen = 254 // characters, after normalisation
	MaxNameLen  = 100 // characters, after trimming
)

// NormalizeEmail trims and lower-cases an email, the form in which emails
// are stored, looked up and used as the login-throttling key.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// emailFieldError reports what is wrong with a normalised email, if anything.
func emailFieldError(email string) (gathering.FieldError, bool) {
	fe := gathering.FieldError{Field: "email"}
	if email == "" {
		fe.Message = "is required"
		return fe, false
	}
	if utf8.RuneCountInString(email) > MaxEmailLen {
		fe.Message = "must be at most 254 characters"
		return fe, false
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		fe.Message = "is not a valid email address"
		return fe, false
	}
	return fe, true
}

// nameFieldError reports what is wrong with a trimmed name, if anything.
func nameFieldError(name string) (gathering.FieldError, bool) {
	fe := gathering.FieldError{Field: "name"}
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		fe.Message = "is required"
	case n > MaxNameLen:
		fe.Message = "must be at most 100 characters"
	default:
		return fe, true
	}
	return fe, false
}

// roleFieldError reports whether r is a valid role.
func roleFieldError(field string, r gathering.Role) (gathering.FieldError, bool) {
	if r.Valid() {
		return gathering.FieldError{}, true
	}
	return gathering.FieldError{Field: field, Message: "must be admin, member or viewer"}, false
}

// fieldErrors collects field errors; ok is false when any check failed.
type fieldErrors []gathering.FieldError

// check appends fe unless ok.
func (f *fieldErrors) check(fe gathering.FieldError, ok bool) {
	if !ok {
		*f = append(*f, fe)
	}
}

// err returns one EINVALID carrying every field error, or nil.
func (f fieldErrors) err(message string) error {
	if len(f) == 0 {
		return nil
	}
	return gathering.Invalid(message, f...)
}
