package anthropictest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/llm"
)

// Reply is one scripted answer.
type Reply struct {
	// Content is the text of the answer; empty sends no text block.
	Content string
	// ToolCalls become tool_use blocks after the text; an empty ID gets a
	// generated one, empty Arguments are {}.
	ToolCalls []llm.ToolCall
	// Usage is sent the way the API counts: Usage.InputTokens is the whole
	// input, so input_tokens is InputTokens - CachedTokens -
	// CacheWriteTokens, and CachedTokens is cache_read_input_tokens.
	Usage llm.Usage
	// CacheWriteTokens is cache_creation_input_tokens, part of
	// Usage.InputTokens.
	CacheWriteTokens int
	// StopReason defaults to tool_use with tool calls, else end_turn.
	StopReason string
	// Model defaults to the request's model.
	Model string

	// Status, when set (429, 500, 529, …), answers that HTTP status with
	// the API's error body instead, its type following the status
	// (rate_limit_error, api_error, overloaded_error, …).
	Status int
	// RetryAfter is the retry-after header of a Status answer.
	RetryAfter string
	// Message is the error message of a Status answer or of StreamError.
	Message string
	// StreamError, in a streamed answer, sends an error event of this type
	// (overloaded_error, api_error, …) after the first piece of content and
	// ends the stream; a plain answer gets the type's HTTP status instead.
	StreamError string

	// Malformed breaks the answer: a stream gets an event whose data is not
	// JSON after the first piece of content, a plain answer a body that is
	// not JSON.
	Malformed bool
	// Truncated ends the answer early: a stream after the first piece of
	// content, without message_stop; a plain answer in the middle of its
	// body, shorter than its Content-Length.
	Truncated bool
	// Stall holds the answer back this long, or until the client goes
	// away: a stream after message_start and a ping, a plain answer before
	// its headers.
	Stall time.Duration
	// Chunks is the number of text_delta events the text, and of
	// input_json_delta events each tool call's input, is split into (at
	// least one; at most one per character).
	Chunks int
}

// message is an answer in the API's format.
type message struct {
	ID           string           `json:"id"`
	Type         string           `json:"type"`
	Role         string           `json:"role"`
	Model        string           `json:"model"`
	Content      []map[string]any `json:"content"`
	StopReason   *string          `json:"stop_reason"`
	StopSequence *string          `json:"stop_sequence"`
	Usage        usage            `json:"usage"`
}

// usage is the token count of an answer.
type usage struct {
	InputTokens              int `json:"input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	OutputTokens             int `json:"output_tokens"`
}

// errorTypes is the API's error type for each status.
var errorTypes = map[int]string{
	http.StatusBadRequest:            "invalid_request_error",
	http.StatusUnauthorized:          "authentication_error",
	http.StatusPaymentRequired:       "billing_error",
	http.StatusForbidden:             "permission_error",
	http.StatusNotFound:              "not_found_error",
	http.StatusRequestEntityTooLarge: "request_too_large",
	http.StatusTooManyRequests:       "rate_limit_error",
	http.StatusGatewayTimeout:        "timeout_error",
	529:                              "overloaded_error",
}

// answer sends reply to req.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, req wireRequest, reply Reply) {
	if reply.Status == 0 && reply.StreamError != "" && !req.Stream {
		reply.Status = statusOf(reply.StreamError)
	}
	if reply.Status != 0 {
		writeError(w, reply.Status, cmp.Or(reply.Message, http.StatusText(reply.Status), "Overloaded"), reply.RetryAfter)
		return
	}
	msg := s.message(req.Model, reply)
	if req.Stream {
		s.stream(w, r, msg, reply)
		return
	}
	plain(w, r, msg, reply)
}

// message builds the complete answer of reply.
func (s *Server) message(model string, reply Reply) message {
	stop := cmp.Or(reply.StopReason, "end_turn")
	if reply.StopReason == "" && len(reply.ToolCalls) > 0 {
		stop = "tool_use"
	}
	m := message{
		ID: s.id("msg_test_"), Type: "message", Role: "assistant", Model: cmp.Or(reply.Model, model),
		Content: []map[string]any{}, StopReason: &stop, Usage: usage{
			InputTokens:              reply.Usage.InputTokens - reply.Usage.CachedTokens - reply.CacheWriteTokens,
			CacheCreationInputTokens: reply.CacheWriteTokens,
			CacheReadInputTokens:     reply.Usage.CachedTokens,
			OutputTokens:             reply.Usage.OutputTokens,
		},
	}
	if reply.Content != "" {
		m.Content = append(m.Content, map[string]any{"type": "text", "text": reply.Content})
	}
	for _, tc := range reply.ToolCalls {
		m.Content = append(m.Content, map[string]any{
			"type": "tool_use", "id": cmp.Or(tc.ID, s.id("toolu_test_")), "name": tc.Name, "input": input(tc.Arguments),
		})
	}
	return m
}

// input is args compacted, or {} when empty.
func input(args json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, args) != nil {
		return json.RawMessage(`{}`)
	}
	return b.Bytes()
}

// plain sends msg as one JSON body.
func plain(w http.ResponseWriter, r *http.Request, msg message, reply Reply) {
	if !sleep(r.Context(), reply.Stall) {
		return
	}
	body, _ := json.Marshal(msg)
	if reply.Malformed {
		body = []byte(`{"id":"` + msg.ID + `","type":"message","content":[{"type":`)
	}
	w.Header().Set("content-type", "application/json")
	w.Header().Set("content-length", strconv.Itoa(len(body)))
	if reply.Truncated {
		body = body[:len(body)/2]
	}
	_, _ = w.Write(body)
}

// writeError sends the API's error body, its type following status.
func writeError(w http.ResponseWriter, status int, msg, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("retry-after", retryAfter)
	}
	body, _ := json.Marshal(map[string]any{
		"type":  "error",
		"error": map[string]string{"type": errorType(status), "message": msg},
	})
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// errorType is the API's error type for status.
func errorType(status int) string {
	return cmp.Or(errorTypes[status], "api_error")
}

// statusOf is the HTTP status of an error type.
func statusOf(typ string) int {
	for status, t := range errorTypes {
		if t == typ {
			return status
		}
	}
	return http.StatusInternalServerError
}

// sleep waits d, or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
