package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// secretFile is the name, inside the data directory, of the development
// secret generated when SECRET_KEY is unset.
const secretFile = "secret_key"

// ResolveSecret makes sure c has a signing secret. One from the environment
// is kept as it is. In development a missing secret is read from the data
// directory, or generated once (48 random bytes) and written there with mode
// 0600, so tokens survive restarts. Production never generates one: Load has
// already refused a missing secret.
func (c *Config) ResolveSecret() error {
	if c.SecretKey != "" {
		c.SecretKeySource = "environment"
		return nil
	}
	if c.Production() {
		return errors.New("SECRET_KEY: required in production")
	}
	path := filepath.Join(c.DataDir, secretFile)
	secret, err := readSecret(path)
	if errors.Is(err, fs.ErrNotExist) {
		secret, err = createSecret(path)
		if errors.Is(err, fs.ErrExist) { // another process won the race
			secret, err = readSecret(path)
		}
	}
	if err != nil {
		return err
	}
	c.SecretKey, c.SecretKeySource = secret, "file "+path
	return nil
}

func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	secret := strings.TrimSpace(string(b))
	if len(secret) < MinSecretBytes {
		return "", fmt.Errorf("development secret %s is shorter than %d bytes; delete it to generate a new one", path, MinSecretBytes)
	}
	return secret, nil
}

func createSecret(path string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create data directory: %w", err)
	}
	raw := make([]byte, 48)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails
	secret := base64.RawURLEncoding.EncodeToString(raw)
	// Write a temporary file, then link it into place: readers never see a
	// half-written secret, and of two racing processes one link fails.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*")
	if err != nil {
		return "", fmt.Errorf("write development secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(secret + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("write development secret: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return "", err
	}
	return secret, nil
}
