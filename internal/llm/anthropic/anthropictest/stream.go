package anthropictest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
)

// event is one server-sent event.
type event struct {
	name string
	data map[string]any
}

// stream sends msg as server-sent events, as reply directs.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, msg message, reply Reply) {
	w.Header().Set("content-type", "text/event-stream")
	w.Header().Set("cache-control", "no-cache")
	w.WriteHeader(http.StatusOK)
	events, cut := streamEvents(msg, reply.Chunks)
	for i, ev := range events {
		if !send(w, ev.name, ev.data) {
			return
		}
		if i == 1 && !sleep(r.Context(), reply.Stall) {
			return
		}
		if i == cut && interrupt(w, reply) {
			return
		}
	}
}

// streamEvents lists the events of msg, each text and tool input in chunks
// pieces, and returns the index of the first piece of content (or of the
// ping when there is none).
func streamEvents(msg message, chunks int) ([]event, int) {
	start := msg
	start.Content, start.StopReason = []map[string]any{}, nil
	start.Usage.OutputTokens = min(1, msg.Usage.OutputTokens)
	events := []event{
		{"message_start", map[string]any{"type": "message_start", "message": start}},
		{"ping", map[string]any{"type": "ping"}},
	}
	cut := 1
	for i, b := range msg.Content {
		events = append(events, blockEvents(i, b, chunks)...)
		if i == 0 {
			cut = 3
		}
	}
	return append(events,
		event{"message_delta", map[string]any{
			"type":  "message_delta",
			"delta": map[string]any{"stop_reason": msg.StopReason, "stop_sequence": nil},
			"usage": map[string]any{"output_tokens": msg.Usage.OutputTokens},
		}},
		event{"message_stop", map[string]any{"type": "message_stop"}},
	), cut
}

// blockEvents are the events of content block i: its start, its pieces
// and its stop.
func blockEvents(i int, b map[string]any, chunks int) []event {
	var first map[string]any
	var deltas []map[string]any
	if b["type"] == "text" {
		first = map[string]any{"type": "text", "text": ""}
		for _, p := range split(b["text"].(string), chunks) {
			deltas = append(deltas, map[string]any{"type": "text_delta", "text": p})
		}
	} else {
		first = map[string]any{"type": "tool_use", "id": b["id"], "name": b["name"], "input": map[string]any{}}
		deltas = append(deltas, map[string]any{"type": "input_json_delta", "partial_json": ""})
		for _, p := range split(string(b["input"].(json.RawMessage)), chunks) {
			deltas = append(deltas, map[string]any{"type": "input_json_delta", "partial_json": p})
		}
	}
	events := []event{{"content_block_start", map[string]any{"type": "content_block_start", "index": i, "content_block": first}}}
	for _, d := range deltas {
		events = append(events, event{"content_block_delta", map[string]any{"type": "content_block_delta", "index": i, "delta": d}})
	}
	return append(events, event{"content_block_stop", map[string]any{"type": "content_block_stop", "index": i}})
}

// split cuts s into n pieces of about the same number of characters (at
// least one piece, at most one per character).
func split(s string, n int) []string {
	runes := []rune(s)
	n = max(1, min(n, len(runes)))
	pieces := make([]string, n)
	for i := range n {
		pieces[i] = string(runes[i*len(runes)/n : (i+1)*len(runes)/n])
	}
	return pieces
}

// interrupt breaks off the stream as reply directs and reports whether it
// did.
func interrupt(w http.ResponseWriter, reply Reply) bool {
	switch {
	case reply.Malformed:
		fmt.Fprint(w, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\n\n")
	case reply.StreamError != "":
		send(w, "error", map[string]any{"type": "error", "error": map[string]string{
			"type": reply.StreamError, "message": cmp.Or(reply.Message, "Overloaded"),
		}})
	case !reply.Truncated:
		return false
	}
	return true
}

// send writes one event and flushes it; it reports whether that worked.
func send(w http.ResponseWriter, name string, data map[string]any) bool {
	b, _ := json.Marshal(data)
	if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b); err != nil {
		return false
	}
	return http.NewResponseController(w).Flush() == nil
}
