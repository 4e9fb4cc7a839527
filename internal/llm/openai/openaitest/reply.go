package openaitest

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/llm"
)

// Reply is one scripted answer to a chat request. The zero Reply is an
// empty answer that stops normally.
type Reply struct {
	Content   string
	ToolCalls []llm.ToolCall
	// Usage is reported in the answer (in a stream, in the final usage
	// chunk when the request asked for it).
	Usage llm.Usage
	// StopReason is the finish_reason (default "tool_calls" when there are
	// tool calls, else "stop").
	StopReason string
	// Model names the answering model (default: the requested one).
	Model string

	// Status, when not 0 or 200, answers an error with that status.
	Status int
	// Error is the error's message (default: the status text).
	Error string
	// RetryAfter is the error's Retry-After header, e.g. "1" or an HTTP date.
	RetryAfter string

	// Malformed answers invalid JSON: the whole body, or in a stream a data
	// line after the first content chunk (the stream then goes on to [DONE]).
	Malformed bool
	// Truncate breaks the answer off: half the body, or a stream that ends
	// cleanly halfway through the content, with no finish_reason and no
	// [DONE].
	Truncate bool
	// Stall waits this long before answering (a stream: after the headers
	// and the first, empty chunk), or until the client goes away.
	Stall time.Duration
	// Chunks is how many content deltas a stream splits Content into
	// (default 3, at most one per character).
	Chunks int
}

// chatBody is the part of a chat request the server looks at.
type chatBody struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// chat answers POST /v1/chat/completions with the next reply.
func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var req chatBody
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, Reply{Status: http.StatusBadRequest, Error: "openaitest: the body is not JSON: " + err.Error()})
		return
	}
	reply, ok := s.next(r)
	if !ok {
		writeError(w, Reply{Status: http.StatusInternalServerError, Error: "openaitest: the script is empty"})
		return
	}
	reply.Model = cmp.Or(reply.Model, req.Model)
	switch {
	case reply.Status != 0 && reply.Status != http.StatusOK:
		if s.stall(r, reply.Stall) {
			writeError(w, reply)
		}
	case req.Stream:
		s.stream(w, r, reply, req.StreamOptions.IncludeUsage)
	default:
		if s.stall(r, reply.Stall) {
			writePlain(w, reply)
		}
	}
}

// writeError answers reply's status with an OpenAI-style error body.
func writeError(w http.ResponseWriter, reply Reply) {
	if reply.RetryAfter != "" {
		w.Header().Set("Retry-After", reply.RetryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(reply.Status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": cmp.Or(reply.Error, http.StatusText(reply.Status)),
		"type":    "openaitest_error",
		"code":    strconv.Itoa(reply.Status),
	}})
}

// writePlain answers a whole chat completion.
func writePlain(w http.ResponseWriter, reply Reply) {
	data := mustJSON(map[string]any{
		"id":      "chatcmpl-openaitest",
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   reply.Model,
		"choices": []any{map[string]any{"index": 0, "message": message(reply), "finish_reason": reply.stopReason()}},
		"usage":   usage(reply.Usage),
	})
	switch {
	case reply.Malformed:
		data = []byte(`{"id":"chatcmpl-openaitest","choices":[{"index":0,"message":oops}]}`)
	case reply.Truncate:
		data = data[:len(data)/2]
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
}

// stopReason returns the finish_reason to send.
func (r Reply) stopReason() string {
	if r.StopReason != "" {
		return r.StopReason
	}
	if len(r.ToolCalls) > 0 {
		return "tool_calls"
	}
	return "stop"
}

// message is the assistant message of a whole answer.
func message(reply Reply) map[string]any {
	m := map[string]any{"role": "assistant", "content": reply.Content}
	if len(reply.ToolCalls) == 0 {
		return m
	}
	if reply.Content == "" {
		m["content"] = nil
	}
	var calls []any
	for _, tc := range reply.ToolCalls {
		calls = append(calls, map[string]any{
			"id":       tc.ID,
			"type":     "function",
			"function": map[string]any{"name": tc.Name, "arguments": arguments(tc)},
		})
	}
	m["tool_calls"] = calls
	return m
}

// arguments returns a call's arguments as the JSON string the wire carries.
func arguments(tc llm.ToolCall) string {
	if len(tc.Arguments) == 0 {
		return "{}"
	}
	return string(tc.Arguments)
}

// usage is the wire form of u.
func usage(u llm.Usage) map[string]any {
	return map[string]any{
		"prompt_tokens":         u.InputTokens,
		"completion_tokens":     u.OutputTokens,
		"total_tokens":          u.InputTokens + u.OutputTokens,
		"prompt_tokens_details": map[string]any{"cached_tokens": u.CachedTokens},
	}
}

// mustJSON encodes v, which only holds encodable values.
func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic("openaitest: " + err.Error())
	}
	return data
}
