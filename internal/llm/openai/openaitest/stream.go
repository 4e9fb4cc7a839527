package openaitest

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// stream answers reply as server-sent events, the way the API streams.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, reply Reply, includeUsage bool) {
	events, finish := streamEvents(reply, includeUsage)
	switch {
	case reply.Malformed:
		events = slices.Insert(events, min(2, finish), []byte(`{"choices":[{"index":0,"delta":{"content":oops}}]}`))
	case reply.Truncate:
		events = events[:finish/2+1]
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	for i, data := range events {
		if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil || rc.Flush() != nil {
			return
		}
		if i == 0 && !s.stall(r, reply.Stall) {
			return
		}
	}
}

// streamEvents returns the data of each event: an empty first chunk, the
// content deltas, the tool call pieces (interleaved across calls), the
// finish chunk, the usage chunk when asked for, and [DONE]; and the index of
// the finish chunk.
func streamEvents(reply Reply, includeUsage bool) ([][]byte, int) {
	c := chunker{model: reply.Model, created: time.Now().Unix()}
	events := [][]byte{c.delta(map[string]any{"role": "assistant", "content": ""}, nil)}
	for _, piece := range split(reply.Content, cmp.Or(reply.Chunks, 3)) {
		events = append(events, c.delta(map[string]any{"content": piece}, nil))
	}
	events = append(events, c.toolCalls(reply)...)
	finish := len(events)
	events = append(events, c.delta(map[string]any{}, reply.stopReason()))
	if includeUsage {
		events = append(events, c.usage(reply))
	}
	return append(events, []byte("[DONE]")), finish
}

// chunker writes chat.completion.chunk objects.
type chunker struct {
	model   string
	created int64
}

// delta is a chunk with one choice.
func (c chunker) delta(delta map[string]any, finish any) []byte {
	return c.chunk([]any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}, nil)
}

// usage is the final chunk: no choices, the usage.
func (c chunker) usage(reply Reply) []byte {
	return c.chunk([]any{}, usage(reply.Usage))
}

// chunk encodes one chunk.
func (c chunker) chunk(choices []any, usage any) []byte {
	return mustJSON(map[string]any{
		"id": "chatcmpl-openaitest", "object": "chat.completion.chunk", "created": c.created,
		"model": c.model, "choices": choices, "usage": usage,
	})
}

// toolCalls streams each call's id and name, then its arguments in two
// pieces, taking the calls in turn so that pieces of different calls
// interleave.
func (c chunker) toolCalls(reply Reply) [][]byte {
	var events [][]byte
	for i, tc := range reply.ToolCalls {
		head := map[string]any{"index": i, "id": tc.ID, "type": "function", "function": map[string]any{"name": tc.Name, "arguments": ""}}
		events = append(events, c.delta(map[string]any{"tool_calls": []any{head}}, nil))
	}
	for piece := range 2 {
		for i, tc := range reply.ToolCalls {
			args := split(arguments(tc), 2)
			if piece < len(args) {
				part := map[string]any{"index": i, "function": map[string]any{"arguments": args[piece]}}
				events = append(events, c.delta(map[string]any{"tool_calls": []any{part}}, nil))
			}
		}
	}
	return events
}

// split cuts s into at most n non-empty pieces of nearly equal length.
func split(s string, n int) []string {
	r := []rune(s)
	n = min(n, len(r))
	var out []string
	for i := range n {
		out = append(out, string(r[i*len(r)/n:(i+1)*len(r)/n]))
	}
	return out
}
