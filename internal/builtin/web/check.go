package web

import (
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/tool"
)

// managedHeaders are the request headers, lower-case, that the HTTP client
// sets itself (the hop-by-hop headers of RFC 9110 section 7.6.1 among them);
// a caller may not give them.
var managedHeaders = map[string]bool{
	"host": true, "content-length": true, "transfer-encoding": true, "connection": true,
	"keep-alive": true, "proxy-connection": true, "proxy-authenticate": true,
	"proxy-authorization": true, "te": true, "trailer": true, "upgrade": true,
}

// checkURL parses a destination URL, which must be http or https and name a
// host.
func checkURL(raw string) (*url.URL, []gathering.FieldError) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, urlError("is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, urlError("must be an http or https URL")
	case u.Hostname() == "":
		return nil, urlError("must name a host")
	}
	return u, nil
}

// urlError is the field error of an unusable URL.
func urlError(msg string) []gathering.FieldError {
	return []gathering.FieldError{{Field: "/url", Message: msg}}
}

// maxHeaderName is the longest header name accepted.
const maxHeaderName = 256

// tokenChars are the characters of an RFC 9110 token, the form of a header
// name.
const tokenChars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// checkHeaders refuses malformed and managed headers and names given twice
// in different cases, in a stable order. Messages never show header values,
// which often carry credentials.
func checkHeaders(h map[string]string) []gathering.FieldError {
	var out []gathering.FieldError
	seen := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(h)) {
		if msg := headerProblem(name, h[name], seen); msg != "" {
			out = append(out, headerError(name, msg))
		}
		seen[strings.ToLower(name)] = true
	}
	return out
}

// headerProblem says what is wrong with one header, or returns "".
func headerProblem(name, value string, seen map[string]bool) string {
	lower := strings.ToLower(name)
	switch {
	case name == "" || len(name) > maxHeaderName || strings.Trim(name, tokenChars) != "":
		return "is not a valid header name (a token of at most 256 characters)"
	case managedHeaders[lower]:
		return "is set by the HTTP client and may not be given"
	case seen[lower]:
		return "is given twice (header names are case-insensitive)"
	case strings.ContainsFunc(value, isControl):
		return "holds a control character"
	}
	return ""
}

// isControl reports whether r may not appear in a header value: an ASCII
// control character other than horizontal tab.
func isControl(r rune) bool {
	return r < 0x20 && r != '\t' || r == 0x7f
}

// headerError is the field error of one header.
func headerError(name, msg string) gathering.FieldError {
	return gathering.FieldError{Field: tool.Pointer("headers", name), Message: msg}
}

// invalid returns the EINVALID error for fields, or nil when there are none.
func invalid(fields []gathering.FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	return gathering.Invalid("The tool input is invalid.", fields...)
}
