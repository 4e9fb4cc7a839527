package auth

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gathering/gathering/internal/gathering"
)

var (
	testSecret  = []byte("0123456789abcdef0123456789abcdef")
	otherSecret = []byte("fedcba9876543210fedcba9876543210")
	testEpoch   = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
)

// forge signs arbitrary claims with any HMAC method and key.
func forge(t testing.TB, method jwt.SigningMethod, key []byte, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// forgeNone builds an unsigned token with alg "none".
func forgeNone(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// goodClaims are valid claims for user id at time now.
func goodClaims(id string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"sub": id, "role": "member", "email": "a@example.com", "jti": "0123abcd",
		"iss": DefaultIssuer, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

// without returns a copy of c without key.
func without(c jwt.MapClaims, key string) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// with returns a copy of c with key set to v.
func with(c jwt.MapClaims, key string, v any) jwt.MapClaims {
	out := without(c, key)
	out[key] = v
	return out
}

// tamper flips one character of the payload.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = []byte(strings.Replace(string(payload), `"member"`, `"admin"`, 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

func testCodec() *tokenCodec {
	return newTokenCodec(testSecret, DefaultIssuer, time.Hour, func() time.Time { return testEpoch })
}

func TestTokenCodecRoundTrip(t *testing.T) {
	t.Parallel()
	c := testCodec()
	u := gathering.User{ID: 42, Email: "a@example.com", Role: gathering.RoleMember}
	tok, issued, err := c.issue(u, "fam")
	if err != nil {
		t.Fatal(err)
	}
	claims, id, err := c.parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if id != 42 || claims.Subject != "42" || claims.Role != gathering.RoleMember || claims.Email != u.Email ||
		claims.FamilyID != "fam" || claims.Issuer != DefaultIssuer || len(claims.ID) != 32 || claims.ID != issued.ID {
		t.Fatalf("claims %+v", claims)
	}
	if !claims.ExpiresAt.Equal(testEpoch.Add(time.Hour)) || !claims.IssuedAt.Equal(testEpoch) || !claims.NotBefore.Equal(testEpoch) {
		t.Fatalf("times %v %v %v", claims.IssuedAt, claims.NotBefore, claims.ExpiresAt)
	}
}

func TestTokenCodecRejects(t *testing.T) {
	t.Parallel()
	c := testCodec()
	good := goodClaims("7", testEpoch)
	tests := []struct {
		name  string
		token string
	}{
		{"tampered", tamper(forge(t, jwt.SigningMethodHS256, testSecret, good))},
		{"wrong key", forge(t, jwt.SigningMethodHS256, otherSecret, good)},
		{"alg none", forgeNone(t, good)},
		{"alg HS512", forge(t, jwt.SigningMethodHS512, testSecret, good)},
		{"alg HS384", forge(t, jwt.SigningMethodHS384, testSecret, good)},
		{"missing sub", forge(t, jwt.SigningMethodHS256, testSecret, without(good, "sub"))},
		{"non-numeric sub", forge(t, jwt.SigningMethodHS256, testSecret, with(good, "sub", "x7"))},
		{"missing jti", forge(t, jwt.SigningMethodHS256, testSecret, without(good, "jti"))},
		{"missing exp", forge(t, jwt.SigningMethodHS256, testSecret, without(good, "exp"))},
		{"missing iat", forge(t, jwt.SigningMethodHS256, testSecret, without(good, "iat"))},
		{"wrong issuer", forge(t, jwt.SigningMethodHS256, testSecret, with(good, "iss", "evil"))},
		{"expired", forge(t, jwt.SigningMethodHS256, testSecret, with(good, "exp", testEpoch.Add(-time.Minute).Unix()))},
		{"not yet valid", forge(t, jwt.SigningMethodHS256, testSecret, with(good, "nbf", testEpoch.Add(time.Minute).Unix()))},
		{"issued in the future", forge(t, jwt.SigningMethodHS256, testSecret, with(good, "iat", testEpoch.Add(time.Minute).Unix()))},
		{"garbage", "not-a-token"},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := c.parse(tt.token); gathering.ErrorCode(err) != gathering.EUNAUTHORIZED {
				t.Fatalf("want EUNAUTHORIZED, got %v", err)
			}
		})
	}
	if _, _, err := c.parse(forge(t, jwt.SigningMethodHS256, testSecret, good)); err != nil {
		t.Fatalf("the untouched token is rejected: %v", err)
	}
}

func FuzzParseAccessToken(f *testing.F) {
	good := goodClaims("7", testEpoch)
	f.Add(forge(f, jwt.SigningMethodHS256, testSecret, good))
	f.Add(forge(f, jwt.SigningMethodHS512, testSecret, good))
	f.Add(forgeNone(f, good))
	f.Add(tamper(forge(f, jwt.SigningMethodHS256, testSecret, good)))
	f.Add(forge(f, jwt.SigningMethodHS256, testSecret, without(good, "sub")))
	f.Add("a.b.c")
	f.Add("")
	c := testCodec()
	f.Fuzz(func(t *testing.T, tok string) {
		claims, id, err := c.parse(tok)
		if err != nil {
			if gathering.ErrorCode(err) != gathering.EUNAUTHORIZED {
				t.Fatalf("parse(%q): %v", tok, err)
			}
			return
		}
		if id <= 0 || claims.ID == "" || claims.ExpiresAt == nil || claims.Issuer != DefaultIssuer {
			t.Fatalf("parse(%q) accepted claims %+v", tok, claims)
		}
	})
}

func TestThrottleDelay(t *testing.T) {
	t.Parallel()
	want := map[int]time.Duration{0: 0, 4: 0, 5: time.Minute, 6: 2 * time.Minute, 7: 4 * time.Minute,
		8: 8 * time.Minute, 9: 15 * time.Minute, 50: 15 * time.Minute, 1 << 30: 15 * time.Minute}
	for n, d := range want {
		if got := throttleDelay(n); got != d {
			t.Errorf("throttleDelay(%d) = %v, want %v", n, got, d)
		}
	}
}
