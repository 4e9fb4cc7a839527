package store

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// JSONObject reports whether raw is one JSON object in valid UTF-8, as the
// stores require of the JSON columns that hold an object.
func JSONObject(raw json.RawMessage) bool {
	return json.Valid(raw) && utf8.Valid(raw) && bytes.TrimLeft(raw, " \t\r\n")[0] == '{'
}

// ValidJSON reports whether raw is one JSON value in valid UTF-8, as the
// stores require of the JSON columns that hold any value.
func ValidJSON(raw json.RawMessage) bool { return json.Valid(raw) && utf8.Valid(raw) }
