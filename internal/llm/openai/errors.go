package openai

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/llm"
)

// maxMessage is how many characters of a provider's message an error keeps.
const maxMessage = 500

// maxErrorBody bounds what is read of an error response.
const maxErrorBody = 64 << 10

// statusError turns a non-2xx response into an *llm.Error.
func (c *client) statusError(resp *http.Response) *llm.Error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	msg := errorMessage(body)
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &llm.Error{
		Provider:   c.name,
		Status:     resp.StatusCode,
		Message:    c.clean(msg),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

// networkError reports a failure to reach the provider or to read its
// answer. When ctx ended, its cause is the error: the caller's cancellation
// or deadline, or the client's own timeout.
func (c *client) networkError(ctx context.Context, msg string, err error) *llm.Error {
	if ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	return &llm.Error{Provider: c.name, Message: msg, Err: err}
}

// malformed reports an answer that does not follow the wire format.
func (c *client) malformed(msg string, err error) *llm.Error {
	return &llm.Error{Provider: c.name, Message: msg, Err: err}
}

// clean makes a provider's message safe to keep: the API key (some
// providers echo it) is masked and the text shortened.
func (c *client) clean(msg string) string {
	if c.key != "" {
		msg = strings.ReplaceAll(msg, c.key, "[redacted]")
	}
	return shorten(strings.TrimSpace(strings.ToValidUTF8(msg, "?")), maxMessage)
}

// errorMessage extracts the message of an error body: {"error":{"message"}}
// (OpenAI), {"error":"…"} (Ollama, llama.cpp), else the body's text.
func errorMessage(body []byte) string {
	var v struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &v) != nil || len(v.Error) == 0 {
		return string(body)
	}
	var obj struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(v.Error, &obj) == nil && obj.Message != "" {
		return obj.Message
	}
	var s string
	if json.Unmarshal(v.Error, &s) == nil {
		return s
	}
	return string(v.Error)
}

// shorten cuts s to at most n characters, marking the cut with "…".
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// maxRetryAfter bounds a parsed Retry-After (a day is already absurd).
const maxRetryAfter = 24 * time.Hour

// retryAfter parses a Retry-After value, delay-seconds or an HTTP date,
// relative to now; zero when absent or unparsable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(s) || s < 0 {
			return 0
		}
		return time.Duration(min(s, maxRetryAfter.Seconds()) * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}
