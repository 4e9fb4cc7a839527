package anthropic

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/llm"
)

const (
	// maxMessage is the length, in characters, of an error message kept
	// from the provider.
	maxMessage = 500
	// maxErrorBody is how much of an error answer is read.
	maxErrorBody = 64 << 10
	// maxRetryAfter caps a Retry-After given in seconds.
	maxRetryAfter = 24 * time.Hour
)

// errorStatus is the HTTP status of each error type of the API, for the
// error events of a stream.
var errorStatus = map[string]int{
	"invalid_request_error": http.StatusBadRequest,
	"authentication_error":  http.StatusUnauthorized,
	"billing_error":         http.StatusPaymentRequired,
	"permission_error":      http.StatusForbidden,
	"not_found_error":       http.StatusNotFound,
	"request_too_large":     http.StatusRequestEntityTooLarge,
	"rate_limit_error":      http.StatusTooManyRequests,
	"api_error":             http.StatusInternalServerError,
	"timeout_error":         http.StatusGatewayTimeout,
	"overloaded_error":      529,
}

// wireError is the body of an error answer.
type wireError struct {
	Error errorBody `json:"error"`
}

// errorBody is the error of an error answer or of an error event.
type errorBody struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// statusError is the *llm.Error of a non-2xx answer.
func (c *client) statusError(resp *http.Response) *llm.Error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return &llm.Error{
		Provider:   c.name,
		Status:     resp.StatusCode,
		Message:    shorten(c.redact(errorMessage(body, resp.Status))),
		RetryAfter: retryAfter(resp.Header.Get("retry-after"), time.Now()),
	}
}

// eventError is the *llm.Error of an error event.
func (c *client) eventError(e errorBody) *llm.Error {
	msg := cmp.Or(e.Message, e.Type, "error event")
	return &llm.Error{Provider: c.name, Status: errorStatus[e.Type], Message: shorten(c.redact(msg))}
}

// errorMessage is the message of an error answer: the API's, else the
// body's text, else fallback.
func errorMessage(body []byte, fallback string) string {
	var e wireError
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	return cmp.Or(strings.TrimSpace(string(body)), fallback)
}

// shorten cuts s to maxMessage characters, marking the cut with "…".
func shorten(s string) string {
	if utf8.RuneCountInString(s) <= maxMessage {
		return s
	}
	return string([]rune(s)[:maxMessage-1]) + "…"
}

// retryAfter parses a Retry-After value, in seconds or an HTTP date; 0
// when there is none or it cannot be read.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if !(secs > 0) {
			return 0
		}
		return time.Duration(min(secs, maxRetryAfter.Seconds()) * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
