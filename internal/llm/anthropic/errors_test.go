package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/anthropic/anthropictest"
)

func TestHTTPErrors(t *testing.T) {
	for _, tc := range []struct {
		reply      anthropictest.Reply
		retryable  bool
		retryAfter time.Duration
	}{
		{anthropictest.Reply{Status: 429, RetryAfter: "7", Message: "Number of request tokens has exceeded your rate limit."}, true, 7 * time.Second},
		{anthropictest.Reply{Status: 529, Message: "Overloaded"}, true, 0},
		{anthropictest.Reply{Status: 500, Message: "Internal server error", RetryAfter: "soon"}, true, 0},
		{anthropictest.Reply{Status: 400, Message: "prompt is too long"}, false, 0},
	} {
		for _, m := range modes {
			s := anthropictest.New(t)
			s.Push(tc.reply)
			_, err := call(newProvider(s), ask("Hi"), m.stream)
			e := providerError(t, err)
			if e.Status != tc.reply.Status || e.Message != tc.reply.Message || e.RetryAfter != tc.retryAfter || e.Retryable() != tc.retryable {
				t.Errorf("%s %d: got status %d, message %q, retry after %v, retryable %v", m.name, tc.reply.Status, e.Status, e.Message, e.RetryAfter, e.Retryable())
			}
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		" 1.5 ":                         1500 * time.Millisecond,
		"-2":                            0,
		"NaN":                           0,
		"1e12":                          maxRetryAfter,
		"Sun, 01 Mar 2026 12:00:30 GMT": 30 * time.Second,
		"Sun, 01 Mar 2026 11:00:00 GMT": 0,
		"later":                         0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	long := strings.Repeat("é", 600)
	for _, tc := range []struct{ body, want string }{
		{`{"type":"error","error":{"type":"api_error","message":"` + long + `"}}`, strings.Repeat("é", maxMessage-1) + "…"},
		{`<html>Bad gateway</html>`, "<html>Bad gateway</html>"},
		{``, "502 Bad Gateway"},
		{`{"error":{"type":"x","message":"bad key ` + testKey + `"}}`, "bad key [REDACTED]"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, tc.body)
		}))
		_, err := call(New(Config{Name: "claude", BaseURL: srv.URL, APIKey: testKey, HTTPClient: srv.Client()}), ask("Hi"), false)
		srv.Close()
		if e := providerError(t, err); e.Message != tc.want || e.Status != http.StatusBadGateway {
			t.Errorf("body %.40q: message %q, status %d; want %q", tc.body, e.Message, e.Status, tc.want)
		}
	}
}

func TestErrorEventMidStream(t *testing.T) {
	s := anthropictest.New(t)
	s.Push(anthropictest.Reply{Content: "Partial answer", Chunks: 3, StreamError: "overloaded_error", Message: "Overloaded"},
		anthropictest.Reply{Content: "x", StreamError: "mystery_error"})
	p := newProvider(s)
	_, deltas, err := collect(t.Context(), p, ask("Hi"))
	e := providerError(t, err)
	if e.Status != 529 || !e.Retryable() || e.Message != "Overloaded" {
		t.Errorf("got status %d, retryable %v, message %q", e.Status, e.Retryable(), e.Message)
	}
	if len(deltas) != 1 || deltas[0].Text != "Part" {
		t.Errorf("deltas before the error: %+v", deltas)
	}
	_, _, err = collect(t.Context(), p, ask("Hi"))
	if e := providerError(t, err); e.Status != 0 || !e.Retryable() {
		t.Errorf("unknown error type: status %d, retryable %v", e.Status, e.Retryable())
	}
}

func TestBrokenAnswers(t *testing.T) {
	for _, reply := range []anthropictest.Reply{
		{Content: "Hello world", Chunks: 2, Malformed: true},
		{Content: "Hello world", Chunks: 2, Truncated: true},
		{ToolCalls: []llm.ToolCall{{ID: "t", Name: "now"}}, Truncated: true},
	} {
		for _, m := range modes {
			s := anthropictest.New(t)
			s.Push(reply)
			_, err := call(newProvider(s), ask("Hi"), m.stream)
			if e := providerError(t, err); e.Status != 0 || !e.Retryable() {
				t.Errorf("%s, malformed %v: status %d, retryable %v", m.name, reply.Malformed, e.Status, e.Retryable())
			}
		}
	}
}

func TestMalformedEvents(t *testing.T) {
	for name, body := range map[string]string{
		"bad json":         "event: message_start\ndata: {\"type\":\"message_start\",\n\n",
		"stray json delta": "data: {\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}}\n\n",
		"bad tool input": "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\",\"input\":{}}}\n\n" +
			"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\":\"}}\n\n" +
			"data: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
		"no message_stop": "event: ping\ndata: {\"type\":\"ping\"}\n\n",
	} {
		s := &stream{c: New(Config{Name: "claude"}).(*client), ctx: t.Context(), tools: map[int]*toolBlock{}, emit: func(llm.Delta) error { return nil }}
		err := s.read(strings.NewReader(body))
		if e := providerError(t, err); e.Status != 0 {
			t.Errorf("%s: status %d", name, e.Status)
		}
	}
}

func TestStall(t *testing.T) {
	for _, m := range modes {
		s := anthropictest.New(t)
		s.Push(anthropictest.Reply{Content: "late", Stall: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		var err error
		if m.stream {
			_, _, err = collect(ctx, newProvider(s), ask("Hi"))
		} else {
			_, err = newProvider(s).Chat(ctx, ask("Hi"))
		}
		cancel()
		if e := providerError(t, err); e.Status != 0 || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: %v, want a deadline error", m.name, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: ended after %v", m.name, d)
		}
	}
}

func TestSlowAnswer(t *testing.T) {
	for _, m := range modes {
		s := anthropictest.New(t)
		s.Push(anthropictest.Reply{Content: "slow", Stall: 50 * time.Millisecond})
		if resp, err := call(newProvider(s), ask("Hi"), m.stream); err != nil || resp.Content != "slow" {
			t.Errorf("%s: %q, %v", m.name, resp.Content, err)
		}
	}
}

func TestTimeout(t *testing.T) {
	for _, m := range modes {
		s := anthropictest.New(t)
		s.Push(anthropictest.Reply{Content: "late", Stall: time.Minute})
		_, err := call(newProvider(s, func(c *Config) { c.Timeout = 200 * time.Millisecond }), ask("Hi"), m.stream)
		if e := providerError(t, err); e.Status != 0 || e.Err == nil {
			t.Errorf("%s: %v, want a timeout", m.name, err)
		}
		if m.stream && !strings.Contains(err.Error(), "stalled") {
			t.Errorf("%s: %v, want a stall", m.name, err)
		}
	}
}

func TestNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := call(New(Config{Name: "claude", BaseURL: url, APIKey: testKey}), ask("Hi"), false)
	if e := providerError(t, err); e.Status != 0 || e.Err == nil || !e.Retryable() {
		t.Errorf("got %v", err)
	}
}

func TestKeyNeverInErrors(t *testing.T) {
	s := anthropictest.New(t)
	s.RequireKey("sk-ant-other")
	s.Push(anthropictest.Reply{Status: 500, Message: "leaked " + testKey}, anthropictest.Reply{StreamError: "api_error", Message: "leaked " + testKey})
	p := newProvider(s)
	errs := []error{}
	for _, stream := range []bool{false, true} {
		_, err := call(p, ask("Hi"), stream)
		errs = append(errs, err)
	}
	s.RequireKey("")
	for _, stream := range []bool{false, true} {
		_, err := call(p, ask("Hi"), stream)
		errs = append(errs, err)
	}
	if e := providerError(t, errs[0]); e.Status != http.StatusUnauthorized || e.Message != "invalid x-api-key" || e.Retryable() {
		t.Errorf("wrong key: %v", errs[0])
	}
	for _, err := range errs {
		if err == nil || strings.Contains(err.Error(), testKey) || !strings.Contains(err.Error(), "claude") {
			t.Errorf("error %v", err)
		}
	}
}

func TestInvalidRequests(t *testing.T) {
	for name, msgs := range map[string][]llm.Message{
		"unknown role":  {{Role: "system", Content: "x"}},
		"not an object": {{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "t", Arguments: json.RawMessage(`[1]`)}}}},
		"not json":      {{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "t", Arguments: json.RawMessage(`{`)}}}},
	} {
		_, err := call(New(Config{BaseURL: "http://127.0.0.1:1"}), llm.Request{Model: "m", Messages: msgs}, false)
		if gathering.ErrorCode(err) != gathering.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	bad := llm.Request{Model: "m", Tools: []llm.ToolSpec{{Name: "t", Parameters: json.RawMessage(`{`)}}}
	if _, err := call(New(Config{BaseURL: "http://127.0.0.1:1"}), bad, false); gathering.ErrorCode(err) != gathering.EINVALID {
		t.Errorf("invalid schema: %v, want EINVALID", err)
	}
	if _, err := call(New(Config{BaseURL: "http://bad host"}), ask("x"), false); gathering.ErrorCode(err) != gathering.EINVALID {
		t.Errorf("invalid base URL: %v, want EINVALID", err)
	}
}

func TestEmitError(t *testing.T) {
	s := anthropictest.New(t)
	s.Push(anthropictest.Reply{Content: "one two three", Chunks: 3})
	stop := errors.New("client went away")
	_, err := newProvider(s).Stream(t.Context(), ask("Hi"), func(llm.Delta) error { return stop })
	if err != stop {
		t.Errorf("got %v, want the emit error", err)
	}
}

func TestEmbed(t *testing.T) {
	_, _, err := New(Config{Name: "claude"}).Embed(t.Context(), "m", []string{"x"})
	if gathering.ErrorCode(err) != gathering.EUNSUPPORTED || !strings.Contains(gathering.ErrorMessage(err), "The provider claude (Anthropic) offers no embeddings") {
		t.Errorf("got %v", err)
	}
}

func TestDefaults(t *testing.T) {
	p := New(Config{}).(*client)
	if p.Name() != "anthropic" || p.url != "https://api.anthropic.com/v1/messages" || p.version != "2023-06-01" || p.timeout != DefaultTimeout || p.http != http.DefaultClient {
		t.Errorf("defaults: %+v", p)
	}
	if p := New(Config{BaseURL: "http://proxy/anthropic/"}).(*client); p.url != "http://proxy/anthropic/v1/messages" {
		t.Errorf("url %s", p.url)
	}
}
