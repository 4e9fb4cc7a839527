package tool

import (
	"encoding/json"

	"github.com/gathering/gathering/internal/logging"
)

// Redacted replaces the value of a secret field in a recorded input.
const Redacted = logging.Redacted

// Redact returns input as it is recorded: the value of every field whose
// key names a secret (logging.Sensitive: password, token, secret, api_key,
// authorization, cookie, credential, private_key, …), at any depth,
// replaced by Redacted. Input that is not JSON is replaced as a whole.
func Redact(input json.RawMessage) json.RawMessage {
	if len(input) == 0 {
		return json.RawMessage("{}")
	}
	if !json.Valid(input) {
		return json.RawMessage(`"` + Redacted + `"`)
	}
	return json.RawMessage(logging.RedactJSON(input))
}
