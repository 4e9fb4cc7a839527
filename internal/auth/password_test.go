package auth

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/gathering/gathering/internal/gathering"
)

const testCost = MinBcryptCost

func TestValidatePassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pw   string
		ok   bool
	}{
		{"empty", "", false},
		{"seven", "1234567", false},
		{"eight", "12345678", true},
		{"eight runes, more bytes", "éééééééé", true},
		{"128 runes", strings.Repeat("ü", 128), true},
		{"129", strings.Repeat("a", 129), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidatePassword(tt.pw)
			if tt.ok != (err == nil) {
				t.Fatalf("ValidatePassword(%q) = %v, want ok=%v", tt.pw, err, tt.ok)
			}
			if err != nil && (gathering.ErrorCode(err) != gathering.EINVALID || gathering.ErrorFields(err)[0].Field != "password") {
				t.Fatalf("want EINVALID on password, got %v %v", err, gathering.ErrorFields(err))
			}
		})
	}
}

func TestHashPasswordRoundTrip(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse battery", testCost)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, preHashPrefix+"$2a$10$") {
		t.Fatalf("hash %q lacks the tag and cost", h)
	}
	if !CheckPassword(h, "correct horse battery") || CheckPassword(h, "correct horse batterz") {
		t.Fatal("round trip failed")
	}
}

func TestPasswordsSharing72BytesDiffer(t *testing.T) {
	t.Parallel()
	common := strings.Repeat("x", 72)
	h, err := HashPassword(common+"-first", testCost)
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPassword(h, common+"-first") {
		t.Fatal("the password itself does not verify")
	}
	if CheckPassword(h, common+"-second") {
		t.Fatal("a password sharing the first 72 bytes verifies too")
	}
}

func TestCheckPlainBcrypt(t *testing.T) {
	t.Parallel()
	// Plain hashes come from outside (ADMIN_PASSWORD_HASH); any cost is
	// accepted, and the minimum keeps this test fast under -race.
	short := "admin-password"
	raw, err := bcrypt.GenerateFromPassword([]byte(short), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		h := prefix + string(raw[4:])
		if !CheckPassword(h, short) || CheckPassword(h, short+"!") {
			t.Fatalf("%s hash: wrong verdict", prefix)
		}
	}
	long := strings.Repeat("y", 72)
	raw, err = bcrypt.GenerateFromPassword([]byte(long), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPassword(string(raw), long) {
		t.Fatal("a 72-byte password does not verify against its plain hash")
	}
	if CheckPassword(string(raw), long+"z") {
		t.Fatal("a password over 72 bytes verifies against a plain hash")
	}
}

func TestCheckPasswordRejectsGarbage(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"", "plain", "$1$abc", preHashPrefix, preHashPrefix + "nonsense", "$2a$10$short"} {
		if CheckPassword(h, "whatever1") {
			t.Fatalf("hash %q verified", h)
		}
	}
}

func TestHashPasswordCost(t *testing.T) {
	t.Parallel()
	if _, err := HashPassword("password1", MinBcryptCost-1); gathering.ErrorCode(err) != gathering.EINVALID {
		t.Fatalf("cost %d: want EINVALID, got %v", MinBcryptCost-1, err)
	}
	if _, err := HashPassword("password1", 32); gathering.ErrorCode(err) != gathering.EINVALID {
		t.Fatalf("cost 32: want EINVALID, got %v", err)
	}
}
