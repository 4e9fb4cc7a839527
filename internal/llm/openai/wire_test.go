package openai

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/llm"
)

func TestSSEReader(t *testing.T) {
	t.Parallel()
	in := ": keep-alive comment\r\n" +
		"event: message\r\nid: 7\r\ndata: {\"a\":1}\r\n\r\n" +
		"data:{\"b\":2}\n\n" +
		"\n\n" +
		"data: line one\ndata: line two\nretry: 10\n\n" +
		"data: [DONE]"
	r := newSSEReader(strings.NewReader(in))
	var got []string
	for {
		data, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(data))
	}
	want := []string{`{"a":1}`, `{"b":2}`, "line one\nline two", "[DONE]"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
}

// readStream runs the stream reader over a raw SSE body.
func readStream(body string) (llm.Response, []llm.Delta, error) {
	var deltas []llm.Delta
	s := &stream{c: &client{name: "raw"}, emit: func(d llm.Delta) error {
		deltas = append(deltas, d)
		return nil
	}}
	err := s.read(context.Background(), newSSEReader(strings.NewReader(body)))
	return s.resp, deltas, err
}

func TestStreamQuirks(t *testing.T) {
	t.Parallel()
	// DeepSeek's cache counter, tool calls without an index (as some
	// servers send them), usage inside the finish chunk, no [DONE].
	body := `data: {"model":"deepseek-chat","choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}` + "\r\n\r\n" +
		`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"x\""}}]}}]}` + "\r\n\r\n" +
		`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":":1}"}}]}}]}` + "\r\n\r\n" +
		`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"id":"c2","function":{"name":"g"}}]}}]}` + "\r\n\r\n" +
		`data: {"choices":[{"index":1,"delta":{"content":"other choice"}}]}` + "\r\n\r\n" +
		`data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":100,"completion_tokens":9,"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":36}}` + "\r\n\r\n"
	resp, deltas, err := readStream(body)
	if err != nil {
		t.Fatal(err)
	}
	want := llm.Response{
		ToolCalls:  []llm.ToolCall{newToolCall("c1", "f", `{"x":1}`), newToolCall("c2", "g", "{}")},
		Usage:      llm.Usage{InputTokens: 100, OutputTokens: 9, CachedTokens: 64},
		Model:      "deepseek-chat",
		StopReason: "tool_calls",
	}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("response = %+v, want %+v", resp, want)
	}
	if len(deltas) != 2 || deltas[0].ToolCall.Name != "f" || deltas[1].ToolCall.Name != "g" {
		t.Errorf("deltas = %+v", deltas)
	}
}

func TestStreamErrors(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"error event": `data: {"choices":[{"index":0,"delta":{"content":"a"}}]}` + "\n\n" +
			`data: {"error":{"message":"overloaded","type":"server_error"}}` + "\n\n",
		"empty":      "",
		"cut":        `data: {"choices":[{"index":0,"delta":{"content":"a"}}]}` + "\n\n" + `data: {"choices":[{"ind`,
		"no finish":  `data: {"choices":[{"index":0,"delta":{"content":"a"}}]}` + "\n\n",
		"bad json":   "data: {oops}\n\ndata: [DONE]\n\n",
		"long line":  "data: " + strings.Repeat("x", maxSSELine+1) + "\n\n",
		"only noise": ": ping\n\n: ping\n\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, _, err := readStream(body)
			var e *llm.Error
			if !errors.As(err, &e) || e.Status != 0 || !e.Retryable() {
				t.Errorf("error = %v, want a broken stream", err)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		" 1.5 ":                         1500 * time.Millisecond,
		"-1":                            0,
		"NaN":                           0,
		"soon":                          0,
		"1e12":                          maxRetryAfter,
		"Fri, 02 Jan 2026 03:04:35 GMT": 30 * time.Second,
		"Fri, 02 Jan 2026 03:00:00 GMT": 0,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"error":{"message":"bad model","type":"invalid_request_error"}}`: "bad model",
		`{"error":"model not found"}`:                                      "model not found",
		`{"error":{"code":42}}`:                                            `{"code":42}`,
		`upstream timed out`:                                               "upstream timed out",
		``:                                                                 "",
	} {
		if got := errorMessage([]byte(in)); got != want {
			t.Errorf("errorMessage(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestChatUsageCachedTokens(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]llm.Usage{
		`{"prompt_tokens":10,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":8}}`: {InputTokens: 10, OutputTokens: 2, CachedTokens: 8},
		`{"prompt_tokens":10,"completion_tokens":2,"prompt_cache_hit_tokens":6}`:                 {InputTokens: 10, OutputTokens: 2, CachedTokens: 6},
		`{"prompt_tokens":10,"completion_tokens":2,"prompt_tokens_details":null}`:                {InputTokens: 10, OutputTokens: 2, CachedTokens: 0},
	} {
		var u wireUsage
		if err := json.Unmarshal([]byte(in), &u); err != nil || u.usage() != want {
			t.Errorf("usage of %s = %+v (%v), want %+v", in, u.usage(), err, want)
		}
	}
}
