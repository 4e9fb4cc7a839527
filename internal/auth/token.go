package auth

import (
	"errors"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gathering/gathering/internal/gathering"
)

// DefaultIssuer is the iss claim when Config.Issuer is empty.
const DefaultIssuer = "gathering"

// tokenLeeway absorbs clock skew between instances.
const tokenLeeway = 30 * time.Second

// accessClaims is the payload of an access token.
type accessClaims struct {
	jwt.RegisteredClaims
	Role     gathering.Role `json:"role"`
	Email    string         `json:"email"`
	FamilyID string         `json:"fid,omitempty"`
}

// tokenCodec signs and verifies access tokens.
type tokenCodec struct {
	secret []byte
	issuer string
	ttl    time.Duration
	now    func() time.Time
	parser *jwt.Parser
}

// newTokenCodec returns a codec whose parser accepts only HS256 tokens from
// issuer that carry exp and iat.
func newTokenCodec(secret []byte, issuer string, ttl time.Duration, now func() time.Time) *tokenCodec {
	return &tokenCodec{
		secret: secret,
		issuer: issuer,
		ttl:    ttl,
		now:    now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(tokenLeeway),
			jwt.WithTimeFunc(now),
			jwt.WithStrictDecoding(),
		),
	}
}

// issue signs a new access token for u in refresh family familyID.
func (c *tokenCodec) issue(u gathering.User, familyID string) (string, accessClaims, error) {
	now := c.now()
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    c.issuer,
			Subject:   strconv.FormatInt(u.ID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(c.ttl)),
			ID:        randomID(),
		},
		Role:     u.Role,
		Email:    u.Email,
		FamilyID: familyID,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(c.secret)
	if err != nil {
		return "", accessClaims{}, &gathering.Error{Code: gathering.EINTERNAL, Message: "cannot sign access token", Err: err}
	}
	return s, claims, nil
}

// parse verifies an access token and returns its claims and user id. Any
// failure is EUNAUTHORIZED with a short reason.
func (c *tokenCodec) parse(token string) (accessClaims, int64, error) {
	var claims accessClaims
	_, err := c.parser.ParseWithClaims(token, &claims, c.key)
	if err != nil {
		return accessClaims{}, 0, unauthorized(jwtReason(err), err)
	}
	if claims.ID == "" || claims.IssuedAt == nil {
		return accessClaims{}, 0, unauthorized("Token lacks required claims", nil)
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return accessClaims{}, 0, unauthorized("Token has no valid subject", err)
	}
	return claims, id, nil
}

// key returns the signing key; the parser has already pinned the method.
func (c *tokenCodec) key(*jwt.Token) (any, error) { return c.secret, nil }

// jwtReason turns a jwt error into a short caller-safe reason.
func jwtReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "Token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "Token not valid yet"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "Invalid token signature"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "Malformed token"
	}
	return "Invalid token"
}

// unauthorized returns an EUNAUTHORIZED error with a caller-safe reason.
func unauthorized(reason string, cause error) *gathering.Error {
	return &gathering.Error{Code: gathering.EUNAUTHORIZED, Message: reason, Err: cause}
}
