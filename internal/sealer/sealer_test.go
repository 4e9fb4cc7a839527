package sealer

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestSealOpenRoundTrip(t *testing.T) {
	s, err := New("", strings.Repeat("k", 40))
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.Seal([]byte("sk-secret"), "openai"), s.Seal([]byte("sk-secret"), "openai")
	if bytes.Equal(a, b) || bytes.Contains(a, []byte("sk-secret")) {
		t.Fatal("sealing is not randomised or leaks the plaintext")
	}
	if got, err := s.Open(a, "openai"); err != nil || string(got) != "sk-secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestOpenRefusesOtherKeyLabelOrTampering(t *testing.T) {
	s, _ := New("", strings.Repeat("k", 40))
	other, _ := New("", strings.Repeat("j", 40))
	explicit, err := New(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)), strings.Repeat("k", 40))
	if err != nil {
		t.Fatal(err)
	}
	sealed := s.Seal([]byte("sk-secret"), "openai")
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for name, try := range map[string]func() ([]byte, error){
		"other secret": func() ([]byte, error) { return other.Open(sealed, "openai") },
		"explicit key": func() ([]byte, error) { return explicit.Open(sealed, "openai") },
		"other label":  func() ([]byte, error) { return s.Open(sealed, "anthropic") },
		"tampered":     func() ([]byte, error) { return s.Open(tampered, "openai") },
		"truncated":    func() ([]byte, error) { return s.Open(sealed[:5], "openai") },
	} {
		if _, err := try(); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: %v, want ErrOpen", name, err)
		}
	}
}

func TestKeyConfiguration(t *testing.T) {
	for _, key := range []string{"short", base64.StdEncoding.EncodeToString(make([]byte, 16)), "not base64!"} {
		if _, err := New(key, "whatever-secret-whatever-secret-x"); err == nil {
			t.Errorf("encryption key %q accepted", key)
		}
	}
	if _, err := New("", ""); err == nil {
		t.Error("no key at all accepted")
	}
}
