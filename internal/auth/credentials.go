package auth

import (
	"net/http"
	"strings"

	"github.com/gathering/gathering/internal/gathering"
)

// Where BearerFromRequest found the credential.
const (
	SourceHeader    = "header"    // Authorization: Bearer <token>
	SourceQuery     = "query"     // ?token=<token>
	SourceWebSocket = "websocket" // Sec-WebSocket-Protocol: bearer, <token>
)

// maxTokenLen bounds a credential; longer ones are rejected unparsed.
const maxTokenLen = 4096

// ErrNoCredentials is returned by BearerFromRequest when the request carries
// no credential at all.
var ErrNoCredentials = &gathering.Error{Code: gathering.EUNAUTHORIZED, Message: "Not authenticated"}

// BearerFromRequest extracts the bearer credential of a request, looking at
// the Authorization header, then the "token" query parameter, then the
// Sec-WebSocket-Protocol header ("bearer, <token>"). It returns the token and
// its source (SourceHeader, SourceQuery or SourceWebSocket). A malformed
// credential in the first place that has one is an EUNAUTHORIZED error; a
// request with none returns ErrNoCredentials.
func BearerFromRequest(r *http.Request) (token, source string, err error) {
	if h := r.Header.Values("Authorization"); len(h) > 0 {
		if len(h) > 1 {
			return "", "", unauthorized("More than one Authorization header", nil)
		}
		t, err := ParseAuthorization(h[0])
		return t, SourceHeader, err
	}
	if q, ok := r.URL.Query()["token"]; ok {
		t, err := queryToken(q)
		return t, SourceQuery, err
	}
	if p := r.Header.Values("Sec-WebSocket-Protocol"); len(p) > 0 {
		t, err := webSocketToken(p)
		return t, SourceWebSocket, err
	}
	return "", "", ErrNoCredentials
}

// ParseAuthorization returns the token of an "Authorization: Bearer <token>"
// header value. The scheme is case-insensitive; the token must be a single
// token68 (RFC 9110) with nothing after it.
func ParseAuthorization(header string) (string, error) {
	header = strings.Trim(header, " \t")
	scheme, rest, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", unauthorized("Authorization must use the Bearer scheme", nil)
	}
	return checkToken(strings.TrimLeft(rest, " "))
}

// queryToken validates the value of the token query parameter.
func queryToken(values []string) (string, error) {
	if len(values) != 1 {
		return "", unauthorized("More than one token parameter", nil)
	}
	return checkToken(values[0])
}

// webSocketToken finds the token after the "bearer" subprotocol in the
// Sec-WebSocket-Protocol header lines.
func webSocketToken(lines []string) (string, error) {
	var protos []string
	for _, l := range lines {
		for p := range strings.SplitSeq(l, ",") {
			protos = append(protos, strings.Trim(p, " \t"))
		}
	}
	for i, p := range protos {
		if !strings.EqualFold(p, "bearer") {
			continue
		}
		if i+1 == len(protos) {
			return checkToken("")
		}
		return checkToken(protos[i+1])
	}
	return "", ErrNoCredentials
}

// checkToken accepts a non-empty token68 of bounded length.
func checkToken(t string) (string, error) {
	if t == "" {
		return "", unauthorized("Empty bearer token", nil)
	}
	if len(t) > maxTokenLen || !isToken68(t) {
		return "", unauthorized("Malformed bearer token", nil)
	}
	return t, nil
}

// isToken68 reports whether s is 1*( ALPHA / DIGIT / "-" / "." / "_" / "~"
// / "+" / "/" ) *"=".
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		if !isToken68Char(body[i]) {
			return false
		}
	}
	return true
}

// isToken68Char reports whether c may appear in the body of a token68.
func isToken68Char(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}
