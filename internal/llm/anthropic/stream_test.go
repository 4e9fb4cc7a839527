package anthropic

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/llm"
)

// TestStreamWireDetails reads a stream written by hand: CRLF line ends, data
// lines without a space, comments, unknown events and blocks, a tool_use
// whose input comes whole in content_block_start, and a message_delta
// carrying the whole usage over two data lines.
func TestStreamWireDetails(t *testing.T) {
	body := strings.Join([]string{
		": a comment",
		"event: message_start",
		`data:{"type":"message_start","message":{"model":"claude-x","content":[],"usage":{"input_tokens":5,"output_tokens":1}}}`,
		"",
		`data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`,
		"",
		`data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}`,
		"",
		`data: {"type":"content_block_stop","index":0}`,
		"",
		`data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":"Hi"}}`,
		"",
		`data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":" you"}}`,
		"",
		`data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t1","name":"now","input":{"tz": "UTC"}}}`,
		"",
		`data: {"type":"content_block_stop","index":2}`,
		"",
		`data: {"type":"something_new"}`,
		"",
		`data: {"type":"message_delta","delta":{"stop_reason":"tool_use"},`,
		`data: "usage":{"input_tokens":6,"cache_read_input_tokens":10,"cache_creation_input_tokens":4,"output_tokens":12}}`,
		"",
		`data: {"type":"message_stop"}`,
		"",
		`data: {"type":"never read"`,
	}, "\r\n")
	var deltas []llm.Delta
	s := &stream{c: New(Config{}).(*client), ctx: t.Context(), tools: map[int]*toolBlock{}, emit: func(d llm.Delta) error {
		deltas = append(deltas, d)
		return nil
	}}
	if err := s.read(strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	call := llm.ToolCall{ID: "t1", Name: "now", Arguments: []byte(`{"tz":"UTC"}`)}
	want := llm.Response{Content: "Hi you", ToolCalls: []llm.ToolCall{call}, Model: "claude-x", StopReason: "tool_use",
		Usage: llm.Usage{InputTokens: 20, OutputTokens: 12, CachedTokens: 10}}
	if got := s.response(); !reflect.DeepEqual(got, want) {
		t.Errorf("response\n got %+v\nwant %+v", got, want)
	}
	wantDeltas := []llm.Delta{{Kind: llm.DeltaToken, Text: "Hi"}, {Kind: llm.DeltaToken, Text: " you"}, {Kind: llm.DeltaToolCall, ToolCall: call}}
	if !reflect.DeepEqual(deltas, wantDeltas) {
		t.Errorf("deltas\n got %+v\nwant %+v", deltas, wantDeltas)
	}
}
