package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/gathering/gathering/internal/gathering"
)

// Password length limits, in characters (runes).
const (
	MinPasswordLen = 8
	MaxPasswordLen = 128
)

// bcrypt cost bounds.
const (
	DefaultBcryptCost = 12
	MinBcryptCost     = 10
)

// preHashPrefix tags hashes of base64(SHA-256(password)); see the package
// documentation.
const preHashPrefix = "bcrypt-sha256$"

// bcryptMaxInput is how many bytes of its input bcrypt reads.
const bcryptMaxInput = 72

// ValidatePassword checks the length rules; the error is EINVALID with a
// field error for "password".
func ValidatePassword(pw string) error {
	if fe, ok := passwordFieldError(pw); !ok {
		return gathering.Invalid("Invalid password", fe)
	}
	return nil
}

// passwordFieldError reports what is wrong with pw, if anything.
func passwordFieldError(pw string) (gathering.FieldError, bool) {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return gathering.FieldError{Field: "password", Message: fmt.Sprintf("must be at least %d characters", MinPasswordLen)}, false
	case n > MaxPasswordLen:
		return gathering.FieldError{Field: "password", Message: fmt.Sprintf("must be at most %d characters", MaxPasswordLen)}, false
	}
	return gathering.FieldError{}, true
}

// HashPassword returns the tagged bcrypt-over-SHA-256 hash of pw at the
// given cost (0 means DefaultBcryptCost; below MinBcryptCost is an error).
// It does not apply ValidatePassword.
func HashPassword(pw string, cost int) (string, error) {
	if cost == 0 {
		cost = DefaultBcryptCost
	}
	if cost < MinBcryptCost || cost > bcrypt.MaxCost {
		return "", gathering.Errorf(gathering.EINVALID, "bcrypt cost must be between %d and %d, got %d", MinBcryptCost, bcrypt.MaxCost, cost)
	}
	h, err := bcrypt.GenerateFromPassword(preHash(pw), cost)
	if err != nil {
		return "", &gathering.Error{Code: gathering.EINTERNAL, Message: "cannot hash password", Err: err}
	}
	return preHashPrefix + string(h), nil
}

// CheckPassword reports whether pw matches hash, which is either a tagged
// hash from HashPassword or a plain bcrypt hash ($2a$, $2b$, $2y$). Against
// a plain hash, a password longer than 72 bytes never matches.
func CheckPassword(hash, pw string) bool {
	if rest, ok := strings.CutPrefix(hash, preHashPrefix); ok {
		return bcrypt.CompareHashAndPassword([]byte(rest), preHash(pw)) == nil
	}
	if !isPlainBcrypt(hash) || len(pw) > bcryptMaxInput {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// isPasswordHash reports whether hash has a format CheckPassword knows.
func isPasswordHash(hash string) bool {
	return strings.HasPrefix(hash, preHashPrefix) || isPlainBcrypt(hash)
}

// isPlainBcrypt reports whether hash looks like a modular-crypt bcrypt hash.
func isPlainBcrypt(hash string) bool {
	for _, p := range []string{"$2a$", "$2b$", "$2y$"} {
		if strings.HasPrefix(hash, p) {
			return true
		}
	}
	return false
}

// preHash is the bcrypt input for pw: base64(SHA-256(pw)), 44 bytes.
func preHash(pw string) []byte {
	sum := sha256.Sum256([]byte(pw))
	out := make([]byte, base64.StdEncoding.EncodedLen(len(sum)))
	base64.StdEncoding.Encode(out, sum[:])
	return out
}
