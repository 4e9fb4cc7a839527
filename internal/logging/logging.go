// Package logging builds GatheRing's structured logger on log/slog: JSON by
// default, readable text on a terminal, every line logged with a request's
// context tagged with its request_id, and secrets redacted by key wherever
// they appear.
package logging

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/gathering/gathering/internal/gathering"
)

// Redacted replaces the value of every sensitive attribute.
const Redacted = "[REDACTED]"

// sensitiveWords mark an attribute or JSON field as secret when its key
// contains one of them (case-insensitive).
var sensitiveWords = []string{"authorization", "cookie", "password", "passwd", "secret", "token", "api_key", "apikey", "api-key", "credential", "private_key"}

// Sensitive reports whether a key names a secret.
func Sensitive(key string) bool {
	key = strings.ToLower(key)
	for _, w := range sensitiveWords {
		if strings.Contains(key, w) {
			return true
		}
	}
	return false
}

// New returns a logger writing to w at level. format is "json", "text" or
// "auto" (text when w is a terminal, else JSON).
func New(w io.Writer, level slog.Leveler, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: redact}
	var h slog.Handler
	if format == "text" || (format == "auto" && isTerminal(w)) {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(contextHandler{h})
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func redact(_ []string, a slog.Attr) slog.Attr {
	if Sensitive(a.Key) && a.Value.Kind() != slog.KindGroup {
		return slog.String(a.Key, Redacted)
	}
	return a
}

// contextHandler adds the request id found in the record's context.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := gathering.RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}

// RedactJSON returns body with the values of sensitive fields replaced, at
// any depth. A body that is not JSON is returned as a length note, never
// verbatim, since it cannot be searched for secrets.
func RedactJSON(body []byte) string {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return "(non-JSON body, " + strconv.Itoa(len(body)) + " bytes)"
	}
	out, _ := json.Marshal(redactValue(v))
	return string(out)
}

func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, inner := range t {
			if Sensitive(k) {
				t[k] = Redacted
			} else {
				t[k] = redactValue(inner)
			}
		}
	case []any:
		for i := range t {
			t[i] = redactValue(t[i])
		}
	}
	return v
}
