package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
)

func TestRequestIDAndRedaction(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := New(&buf, slog.LevelDebug, "json")
	ctx := gathering.WithRequestID(context.Background(), "req-1")
	log.InfoContext(ctx, "hello", "Authorization", "Bearer abc", slog.Group("form", "password", "hunter2", "user", "ann"), "api_key", "k1")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not JSON: %q", buf.String())
	}
	if line["request_id"] != "req-1" {
		t.Errorf("request_id missing: %v", line)
	}
	for _, secret := range []string{"abc", "hunter2", "k1"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("log contains %q: %s", secret, buf.String())
		}
	}
	if !strings.Contains(buf.String(), `"user":"ann"`) {
		t.Errorf("ordinary attribute lost: %s", buf.String())
	}
}

func TestTextFormat(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	New(&buf, slog.LevelInfo, "text").With("token", "t0k").Info("started", "addr", "127.0.0.1:1")
	if !strings.Contains(buf.String(), "msg=started") || strings.Contains(buf.String(), "t0k") {
		t.Fatalf("text line: %q", buf.String())
	}
	// auto picks JSON when the writer is not a terminal.
	buf.Reset()
	New(&buf, slog.LevelInfo, "auto").Info("x")
	if !strings.HasPrefix(buf.String(), "{") {
		t.Fatalf("auto on a buffer is not JSON: %q", buf.String())
	}
}

func TestRedactJSON(t *testing.T) {
	t.Parallel()
	got := RedactJSON([]byte(`{"email":"a@b.c","password":"pw1","nested":[{"access_token":"tk"}],"n":1}`))
	if strings.Contains(got, "pw1") || strings.Contains(got, "tk\"") || !strings.Contains(got, "a@b.c") {
		t.Fatalf("redacted: %s", got)
	}
	if got := RedactJSON([]byte("password=pw1")); strings.Contains(got, "pw1") {
		t.Fatalf("non-JSON body logged verbatim: %s", got)
	}
}
