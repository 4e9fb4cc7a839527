package anthropic

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/anthropic/anthropictest"
)

func TestChat(t *testing.T) {
	s := anthropictest.New(t)
	s.RequireKey(testKey)
	s.Push(anthropictest.Reply{Content: "Hello there.", Model: "claude-test-2025", Usage: llm.Usage{InputTokens: 120, OutputTokens: 7, CachedTokens: 100}, CacheWriteTokens: 5})
	temp := 0.25
	req := ask("Hi")
	req.System, req.Temperature = "Be brief.", &temp
	req.Tools = []llm.ToolSpec{
		{Name: "calc_eval", Description: "Evaluate", Parameters: json.RawMessage(`{"type":"object","properties":{"expression":{"type":"string"}}}`)},
		{Name: "now"},
	}
	resp, err := call(newProvider(s), req, false)
	if err != nil {
		t.Fatal(err)
	}
	want := llm.Response{Content: "Hello there.", Model: "claude-test-2025", StopReason: "end_turn", Usage: llm.Usage{InputTokens: 120, OutputTokens: 7, CachedTokens: 100}}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("response\n got %+v\nwant %+v", resp, want)
	}
	got := s.Requests()[0]
	for h, v := range map[string]string{"x-api-key": testKey, "anthropic-version": "2023-06-01", "content-type": "application/json"} {
		if got.Header.Get(h) != v {
			t.Errorf("header %s = %q, want %q", h, got.Header.Get(h), v)
		}
	}
	wantBody := `{"model":"claude-test","max_tokens":4096,"system":"Be brief.","temperature":0.25,
		"tools":[{"name":"calc_eval","description":"Evaluate","input_schema":{"type":"object","properties":{"expression":{"type":"string"}}}},
			{"name":"now","input_schema":{"type":"object"}}],
		"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`
	if c := anthropictest.Canonical(string(got.Raw)); c != anthropictest.Canonical(wantBody) {
		t.Errorf("request body\n got %s\nwant %s", c, anthropictest.Canonical(wantBody))
	}
}

func TestChatOmitsUnsetOptions(t *testing.T) {
	s := anthropictest.New(t)
	s.Push(anthropictest.Reply{Content: "ok"})
	req := ask("Hi")
	req.MaxTokens = 50
	if _, err := call(newProvider(s, func(c *Config) { c.Version = "2099-01-01" }), req, false); err != nil {
		t.Fatal(err)
	}
	got := s.Requests()[0]
	if got.Field("max_tokens") != "50" || got.Header.Get("anthropic-version") != "2099-01-01" {
		t.Errorf("max_tokens %s, version %q", got.Field("max_tokens"), got.Header.Get("anthropic-version"))
	}
	for _, f := range []string{"system", "temperature", "tools", "stream"} {
		if got.Field(f) != "" {
			t.Errorf("%s = %s, want it absent", f, got.Field(f))
		}
	}
}

func TestStreamEqualsChat(t *testing.T) {
	calls := []llm.ToolCall{
		{ID: "toolu_1", Name: "calc_eval", Arguments: json.RawMessage(`{"expression": "6 * 7", "note": "héllo ✓"}`)},
		{ID: "toolu_2", Name: "now"},
	}
	for _, tc := range []struct {
		name  string
		reply anthropictest.Reply
	}{
		{"text", anthropictest.Reply{Content: "The answer is 42 — naïvely ✓.", Chunks: 7, Usage: llm.Usage{InputTokens: 50, OutputTokens: 9}}},
		{"cached", anthropictest.Reply{Content: "Cached.", Chunks: 2, Usage: llm.Usage{InputTokens: 2000, OutputTokens: 3, CachedTokens: 1500}, CacheWriteTokens: 400}},
		{"tools only", anthropictest.Reply{ToolCalls: calls, Chunks: 5, Usage: llm.Usage{InputTokens: 10, OutputTokens: 30}}},
		{"text and tools", anthropictest.Reply{Content: "Let me compute.", ToolCalls: calls, Chunks: 3, StopReason: "tool_use"}},
		{"max tokens", anthropictest.Reply{Content: "Cut", StopReason: "max_tokens", Model: "claude-other"}},
		{"empty", anthropictest.Reply{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := anthropictest.New(t)
			s.Push(tc.reply, tc.reply)
			p := newProvider(s)
			want, err := call(p, ask("Go"), false)
			if err != nil {
				t.Fatal(err)
			}
			got, deltas, err := collect(t.Context(), p, ask("Go"))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("streamed\n got %+v\nwant %+v (Chat)", got, want)
			}
			checkDeltas(t, deltas, want, max(1, tc.reply.Chunks))
			if !s.Requests()[1].Stream() || s.Requests()[0].Stream() {
				t.Error("stream flag: want it only on the streamed request")
			}
		})
	}
}

// checkDeltas checks that deltas carry the text of want in chunks pieces,
// then its tool calls.
func checkDeltas(t *testing.T, deltas []llm.Delta, want llm.Response, chunks int) {
	t.Helper()
	var text strings.Builder
	var tokens int
	var calls []llm.ToolCall
	for _, d := range deltas {
		switch d.Kind {
		case llm.DeltaToken:
			text.WriteString(d.Text)
			tokens++
		case llm.DeltaToolCall:
			calls = append(calls, d.ToolCall)
		}
	}
	if text.String() != want.Content || !reflect.DeepEqual(calls, want.ToolCalls) {
		t.Errorf("deltas: text %q, calls %+v; want %q, %+v", text.String(), calls, want.Content, want.ToolCalls)
	}
	if want.Content != "" && tokens != min(chunks, len([]rune(want.Content))) {
		t.Errorf("%d token deltas, want %d", tokens, chunks)
	}
}

func TestToolCallRounds(t *testing.T) {
	s := anthropictest.New(t)
	s.Push(
		anthropictest.Reply{Content: "Checking both.", ToolCalls: []llm.ToolCall{
			{ID: "toolu_a", Name: "fs_read", Arguments: json.RawMessage(`{"path":"a.txt"}`)},
			{ID: "toolu_b", Name: "fs_read", Arguments: json.RawMessage(`{"path":"b.txt"}`)},
		}},
		anthropictest.Reply{ToolCalls: []llm.ToolCall{{ID: "toolu_c", Name: "calc_eval", Arguments: json.RawMessage(`{"expression":"1/0"}`)}}, Chunks: 3},
		anthropictest.Reply{Content: "a has 1, b is missing, and 1/0 fails."},
	)
	p := newProvider(s)
	req := ask("Read a.txt and b.txt")
	results := [][]llm.Message{
		{
			{Role: llm.RoleTool, ToolCallID: "toolu_a", Content: "1"},
			{Role: llm.RoleTool, ToolCallID: "toolu_b", Content: "no such file", IsError: true},
			{Role: llm.RoleUser, Content: "Also compute 1/0."},
		},
		{{Role: llm.RoleTool, ToolCallID: "toolu_c", Content: "division by zero", IsError: true}},
	}
	for round, stream := range []bool{false, true, false} {
		resp, err := call(p, req, stream)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		req.Messages = append(req.Messages, llm.Message{Role: llm.RoleAssistant, Content: resp.Content, ToolCalls: resp.ToolCalls})
		if round < len(results) {
			req.Messages = append(req.Messages, results[round]...)
		}
	}
	want := `[
		{"role":"user","content":[{"type":"text","text":"Read a.txt and b.txt"}]},
		{"role":"assistant","content":[{"type":"text","text":"Checking both."},
			{"type":"tool_use","id":"toolu_a","name":"fs_read","input":{"path":"a.txt"}},
			{"type":"tool_use","id":"toolu_b","name":"fs_read","input":{"path":"b.txt"}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_a","content":"1"},
			{"type":"tool_result","tool_use_id":"toolu_b","content":"no such file","is_error":true},
			{"type":"text","text":"Also compute 1/0."}]},
		{"role":"assistant","content":[{"type":"tool_use","id":"toolu_c","name":"calc_eval","input":{"expression":"1/0"}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_c","content":"division by zero","is_error":true}]}]`
	if got := s.Requests()[2].Field("messages"); got != anthropictest.Canonical(want) {
		t.Errorf("third request's messages\n got %s\nwant %s", got, anthropictest.Canonical(want))
	}
	if len(req.Messages) != 8 || req.Messages[7].Content != "a has 1, b is missing, and 1/0 fails." {
		t.Errorf("conversation ends with %+v", req.Messages[len(req.Messages)-1])
	}
}

func TestMergesConsecutiveRoles(t *testing.T) {
	s := anthropictest.New(t)
	s.Push(anthropictest.Reply{Content: "ok"})
	req := llm.Request{Model: "claude-test", Messages: []llm.Message{
		{Role: llm.RoleUser, Content: "one"},
		{Role: llm.RoleUser, Content: ""},
		{Role: llm.RoleUser, Content: "two"},
		{Role: llm.RoleAssistant, Content: "three"},
		{Role: llm.RoleAssistant, Content: "four", ToolCalls: []llm.ToolCall{{ID: "t1", Name: "now", Arguments: json.RawMessage(" null ")}}},
		{Role: llm.RoleTool, ToolCallID: "t1"},
		{Role: llm.RoleUser, Content: "five"},
		{Role: llm.RoleAssistant},
		{Role: llm.RoleUser, Content: "six"},
	}}
	if _, err := call(newProvider(s), req, false); err != nil {
		t.Fatal(err)
	}
	want := `[
		{"role":"user","content":[{"type":"text","text":"one"},{"type":"text","text":"two"}]},
		{"role":"assistant","content":[{"type":"text","text":"three"},{"type":"text","text":"four"},{"type":"tool_use","id":"t1","name":"now","input":{}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1"},{"type":"text","text":"five"},{"type":"text","text":"six"}]}]`
	if got := s.Requests()[0].Field("messages"); got != anthropictest.Canonical(want) {
		t.Errorf("messages\n got %s\nwant %s", got, anthropictest.Canonical(want))
	}
}
