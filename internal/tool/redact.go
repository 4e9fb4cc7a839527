package tool

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Redacted replaces the value of a secret field in a recorded input.
const Redacted = "[redacted]"

// secretSuffixes are the normalised key endings that name a secret.
var secretSuffixes = []string{
	"secret", "password", "passwd", "passphrase", "token", "apikey",
	"accesskey", "authorization", "credential", "credentials", "privatekey",
	"cookie", "signature",
}

// IsSecretKey reports whether an object key names a secret: lower-cased and
// without "_" or "-", it ends with one of secret, password, passwd,
// passphrase, token, apikey, accesskey, authorization, credential(s),
// privatekey, cookie or signature ("api_key", "X-Auth-Token",
// "Authorization", "client_secret"; not "max_tokens").
func IsSecretKey(key string) bool {
	k := strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(key))
	for _, s := range secretSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// Redact returns input with the value of every secret key (IsSecretKey),
// at any depth, replaced by Redacted. Input that is not JSON is replaced
// as a whole.
func Redact(input json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(input)) == 0 {
		return json.RawMessage("{}")
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return json.RawMessage(`"` + Redacted + `"`)
	}
	out, err := json.Marshal(redactValue(doc))
	if err != nil {
		return json.RawMessage(`"` + Redacted + `"`)
	}
	return out
}

func redactValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, val := range v {
			if IsSecretKey(k) {
				v[k] = Redacted
			} else {
				v[k] = redactValue(val)
			}
		}
	case []any:
		for i, val := range v {
			v[i] = redactValue(val)
		}
	}
	return v
}
