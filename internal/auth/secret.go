package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Prefixes of the opaque secrets this package issues.
const (
	APIKeyPrefix       = "gth_"
	RefreshTokenPrefix = "gthr_"
)

// apiKeyDisplayLen is how many characters after "gth_" identify a key.
const apiKeyDisplayLen = 8

// randomID returns 128 random bits in hex (token ids, family ids).
func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails
	return hex.EncodeToString(b)
}

// randomSecret returns 256 random bits, base64url without padding.
func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret returns the SHA-256 of a token or key, hex: the only form in
// which opaque secrets are stored.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// sameHash compares two stored hashes in constant time.
func sameHash(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// newRefreshToken returns a fresh refresh token.
func newRefreshToken() string { return RefreshTokenPrefix + randomSecret() }

// newAPIKey returns a fresh API key and its display prefix.
func newAPIKey() (key, prefix string) {
	s := randomSecret()
	return APIKeyPrefix + s, s[:apiKeyDisplayLen]
}

// isAPIKey reports whether a bearer credential is an API key.
func isAPIKey(token string) bool { return strings.HasPrefix(token, APIKeyPrefix) }
