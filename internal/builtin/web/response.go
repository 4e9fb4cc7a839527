package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/netguard"
)

// Body encodings reported in the output of http.request.
const (
	encodingJSON   = "json"
	encodingText   = "text"
	encodingBase64 = "base64"
)

// response is the output of http.request.
type response struct {
	Status       int               `json:"status"`
	Headers      map[string]string `json:"headers"`
	Body         any               `json:"body"`
	BodyEncoding string            `json:"body_encoding"`
	Truncated    bool              `json:"truncated"`
	DurationMS   int64             `json:"duration_ms"`
}

// readResponse reads at most limit bytes of resp's body; a longer body is
// truncated, not an error.
func readResponse(resp *http.Response, limit int64) (*response, error) {
	data, err := netguard.ReadLimited(resp.Body, limit)
	truncated := errors.Is(err, netguard.ErrTooLarge)
	if err != nil && !truncated {
		return nil, err
	}
	out := &response{Status: resp.StatusCode, Headers: firstValues(resp.Header), Truncated: truncated}
	out.Body, out.BodyEncoding = decodeBody(resp.Header.Get("Content-Type"), data, truncated)
	return out, nil
}

// firstValues returns the first value of each header, under its lower-case
// name.
func firstValues(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for name, values := range h {
		if len(values) > 0 {
			out[strings.ToLower(name)] = values[0]
		}
	}
	return out
}

// decodeBody returns data as parsed JSON (a complete JSON response), text
// (valid UTF-8, ignoring a character cut by truncation) or base64.
func decodeBody(contentType string, data []byte, truncated bool) (any, string) {
	text := data
	if truncated {
		text = trimPartialRune(data)
	}
	switch {
	case !utf8.Valid(text):
		return base64.StdEncoding.EncodeToString(data), encodingBase64
	case !truncated && isJSONType(contentType) && json.Valid(data):
		return json.RawMessage(data), encodingJSON
	}
	return string(text), encodingText
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b.
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}
