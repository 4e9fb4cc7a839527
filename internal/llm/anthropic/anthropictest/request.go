package anthropictest

import (
	"encoding/json"
	"net/http"
)

// Request is one request the server received.
type Request struct {
	Header http.Header
	// Body is the decoded JSON body; nil when it is not a JSON object.
	Body map[string]any
	// Raw is the body as sent.
	Raw json.RawMessage
}

// Stream reports whether the request asked for a streamed answer.
func (r Request) Stream() bool {
	stream, _ := r.Body["stream"].(bool)
	return stream
}

// Field is the top-level field name of the body in Canonical form, "" when
// it is absent. Compare it with the Canonical form of the expected JSON:
//
//	if got, want := req.Field("messages"), anthropictest.Canonical(`[...]`); got != want {
func (r Request) Field(name string) string {
	v, ok := r.Body[name]
	if !ok {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Canonical is the JSON text s compacted, its object keys sorted; text that
// is not JSON comes back marked as such, so that it equals nothing Field
// returns.
func Canonical(s string) string {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return "invalid JSON: " + s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
