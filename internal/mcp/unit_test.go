package mcp

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gathering/gathering/internal/gathering"
)

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"ok_1":     "ok_1",
		"Say-Hi":   "say_hi",
		"get.file": "get_file",
		"ÄB":       "_b",
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("héllo", 2); got != "h…" {
		t.Errorf("truncate cut inside a character: %q", got)
	}
	if got := truncate("hello", 5); got != "hello" {
		t.Errorf("truncate shortened a short text: %q", got)
	}
}

func TestBackoff(t *testing.T) {
	b := &backoff{min: 100 * time.Millisecond, max: time.Second}
	check := func(want time.Duration) {
		t.Helper()
		if d := b.next(); d < want*8/10 || d > want*12/10 {
			t.Errorf("wait %s, want %s ±20 %%", d, want)
		}
	}
	for _, ms := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		check(ms * time.Millisecond)
	}
	b.reset()
	check(100 * time.Millisecond)
}

func TestRedactURL(t *testing.T) {
	if got := redactURL("https://u:pw@h/mcp?token=x"); got != "https://u:xxxxx@h/mcp?REDACTED" {
		t.Errorf("redactURL = %q", got)
	}
}

func TestLineLogger(t *testing.T) {
	var buf syncBuffer
	w := &lineLogger{log: slog.New(slog.NewTextHandler(&buf, nil))}
	w.Write([]byte("first\r\nsec"))
	w.Write([]byte("ond\n"))
	w.Write([]byte(strings.Repeat("x", maxLine)))
	logs := buf.String()
	if strings.Count(logs, "\n") != 3 || !strings.Contains(logs, "line=first\n") || !strings.Contains(logs, "line=second\n") {
		t.Errorf("logged:\n%s", logs)
	}
}

func TestResult(t *testing.T) {
	out, err := result("mcp.x.y", &sdk.CallToolResult{})
	if err != nil || string(out) != `{"content":[]}` {
		t.Errorf("empty result = %s, %v", out, err)
	}
	_, err = result("mcp.x.y", &sdk.CallToolResult{IsError: true, Content: []sdk.Content{
		&sdk.TextContent{Text: "bad"}, &sdk.ImageContent{MIMEType: "image/png"}, &sdk.TextContent{Text: strings.Repeat("z", 2000)},
	}})
	msg := gathering.ErrorMessage(err)
	if gathering.ErrorCode(err) != gathering.EUNAVAILABLE || !strings.Contains(msg, "failed: bad\nzzz") || len(msg) > maxErrorText+100 {
		t.Errorf("error result: %v", err)
	}
}
