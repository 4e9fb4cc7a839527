// Package sealer encrypts small secrets at rest, such as provider API keys,
// with AES-256-GCM. The key comes from GATHERING_ENCRYPTION_KEY or, when
// that is unset, is derived from SECRET_KEY with HKDF-SHA256, so that a
// database dump alone never reveals a credential.
package sealer

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// keyInfo separates the credential key from anything else derived from
// the same secret.
const keyInfo = "gathering provider credentials v1"

// ErrOpen is returned when a sealed value cannot be opened: it was sealed
// with another key, or it was altered.
var ErrOpen = errors.New("sealer: the value cannot be opened with this key (another key sealed it, or it was altered)")

// Sealer seals and opens values with one key. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// New returns a Sealer. encryptionKey, when set, must be 32 bytes encoded
// in standard base64 (`openssl rand -base64 32`); otherwise the key is
// derived from secretKey, which must then be set.
func New(encryptionKey, secretKey string) (*Sealer, error) {
	key, err := deriveKey(encryptionKey, secretKey)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

func deriveKey(encryptionKey, secretKey string) ([]byte, error) {
	if encryptionKey != "" {
		key, err := base64.StdEncoding.DecodeString(encryptionKey)
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("GATHERING_ENCRYPTION_KEY must be 32 bytes in base64 (openssl rand -base64 32)")
		}
		return key, nil
	}
	if secretKey == "" {
		return nil, errors.New("sealer: no key: set GATHERING_ENCRYPTION_KEY or SECRET_KEY")
	}
	return hkdf.Key(sha256.New, []byte(secretKey), nil, keyInfo, 32)
}

// Seal encrypts plaintext; the result holds a random nonce and the
// ciphertext. label binds the value to its use (a provider's name): a
// value sealed for one label does not open for another.
func (s *Sealer) Seal(plaintext []byte, label string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plaintext, []byte(label))
}

// Open decrypts a value Seal returned for the same label, or fails with
// ErrOpen.
func (s *Sealer) Open(sealed []byte, label string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, ErrOpen
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(label))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
