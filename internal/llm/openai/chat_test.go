package openai_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
)

func TestChat(t *testing.T) {
	t.Parallel()
	srv, p := setup(t)
	srv.Push(openaitest.Reply{Content: "Hello!", Usage: llm.Usage{InputTokens: 12, OutputTokens: 3, CachedTokens: 4}})
	temp := 0.25
	resp, err := p.Chat(testContext(t), llm.Request{
		Model: "gpt-test", System: "Be brief.", Temperature: &temp, MaxTokens: 100,
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hi"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := llm.Response{Content: "Hello!", Usage: llm.Usage{InputTokens: 12, OutputTokens: 3, CachedTokens: 4}, Model: "gpt-test", StopReason: "stop"}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("response = %+v, want %+v", resp, want)
	}
	req := srv.Requests()[0]
	if req.Path != "/v1/chat/completions" || req.Header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("request %s with Authorization %q", req.Path, req.Header.Get("Authorization"))
	}
	jsonEqual(t, "request body", req.Body, `{"model":"gpt-test","temperature":0.25,"max_tokens":100,"messages":[
		{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]}`)
}

func TestStreamEqualsChat(t *testing.T) {
	t.Parallel()
	calls := []llm.ToolCall{
		{ID: "call_1", Name: "search", Arguments: json.RawMessage(`{"query":"go generics","limit":5}`)},
		{ID: "call_2", Name: "clock", Arguments: json.RawMessage(`{}`)},
	}
	for name, reply := range map[string]openaitest.Reply{
		"content":            {Content: "The answer is 42.", Usage: llm.Usage{InputTokens: 20, OutputTokens: 6}},
		"many chunks":        {Content: "Ça marche très bien, 日本語も", Chunks: 9},
		"cached tokens":      {Content: "ok", Usage: llm.Usage{InputTokens: 2000, OutputTokens: 1, CachedTokens: 1920}},
		"tool calls":         {ToolCalls: calls, Usage: llm.Usage{InputTokens: 50, OutputTokens: 30}},
		"text and tool call": {Content: "Let me look.", ToolCalls: calls[:1], StopReason: "tool_calls"},
		"length":             {Content: "cut", StopReason: "length"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testStreamEqualsChat(t, reply)
		})
	}
}

// testStreamEqualsChat checks that Stream returns what Chat returns for
// reply and emits it piece by piece.
func testStreamEqualsChat(t *testing.T, reply openaitest.Reply) {
	srv, p := setup(t)
	srv.Push(reply, reply)
	req := llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Content: "q"}}}
	whole, err := p.Chat(testContext(t), req)
	if err != nil {
		t.Fatal(err)
	}
	var c collect
	streamed, err := p.Stream(testContext(t), req, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(streamed, whole) {
		t.Errorf("stream returned %+v\n    chat returned %+v", streamed, whole)
	}
	if whole.Usage != reply.Usage || whole.Content != reply.Content || !reflect.DeepEqual(whole.ToolCalls, reply.ToolCalls) {
		t.Errorf("chat returned %+v for the reply %+v", whole, reply)
	}
	checkDeltas(t, c.deltas, whole)
	jsonEqual(t, "stream options", srv.Requests()[1].Body["stream_options"], `{"include_usage":true}`)
}

// checkDeltas checks that the deltas are the tokens of resp's content, then
// its tool calls.
func checkDeltas(t *testing.T, deltas []llm.Delta, resp llm.Response) {
	t.Helper()
	var text string
	var calls []llm.ToolCall
	for _, d := range deltas {
		switch {
		case d.Kind == llm.DeltaToken && d.Text != "" && calls == nil:
			text += d.Text
		case d.Kind == llm.DeltaToolCall:
			calls = append(calls, d.ToolCall)
		default:
			t.Errorf("unexpected delta %+v", d)
		}
	}
	if text != resp.Content || !reflect.DeepEqual(calls, resp.ToolCalls) {
		t.Errorf("deltas %+v do not make up %+v", deltas, resp)
	}
}

func TestStreamChunks(t *testing.T) {
	t.Parallel()
	srv, p := setup(t)
	srv.Push(openaitest.Reply{Content: "abcdefghij", Chunks: 5})
	var c collect
	if _, err := p.Stream(testContext(t), llm.Request{Model: "m"}, c.emit); err != nil {
		t.Fatal(err)
	}
	if len(c.deltas) != 5 || c.text() != "abcdefghij" {
		t.Errorf("deltas = %+v, want the content in 5 tokens", c.deltas)
	}
}

func TestToolCallRounds(t *testing.T) {
	t.Parallel()
	srv, p := setup(t)
	calls := []llm.ToolCall{
		{ID: "call_a", Name: "add", Arguments: json.RawMessage(`{"a":1,"b":2}`)},
		{ID: "call_b", Name: "now", Arguments: json.RawMessage(`{}`)},
	}
	srv.Push(openaitest.Reply{ToolCalls: calls}, openaitest.Reply{ToolCalls: calls[:1]}, openaitest.Reply{Content: "3, at noon"})
	req := llm.Request{
		Model: "m", System: "sys",
		Tools: []llm.ToolSpec{
			{Name: "add", Description: "Adds.", Parameters: json.RawMessage(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}}}`)},
			{Name: "now", Description: "The time."},
		},
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "1+2, and the time?"}},
	}
	for round, stream := range []bool{false, true, false} {
		resp := chatOrStream(t, p, req, stream)
		req.Messages = append(req.Messages, llm.Message{Role: llm.RoleAssistant, Content: resp.Content, ToolCalls: resp.ToolCalls})
		for _, tc := range resp.ToolCalls {
			req.Messages = append(req.Messages, llm.Message{Role: llm.RoleTool, ToolCallID: tc.ID, Content: "result of " + tc.Name + " round " + string(rune('1'+round))})
		}
	}
	reqs := srv.Requests()
	jsonEqual(t, "tools", reqs[0].Body["tools"], `[
		{"type":"function","function":{"name":"add","description":"Adds.","parameters":{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}}}}},
		{"type":"function","function":{"name":"now","description":"The time.","parameters":{"type":"object","properties":{}}}}]`)
	jsonEqual(t, "messages of the third round", reqs[2].Body["messages"], `[
		{"role":"system","content":"sys"},
		{"role":"user","content":"1+2, and the time?"},
		{"role":"assistant","content":null,"tool_calls":[
			{"id":"call_a","type":"function","function":{"name":"add","arguments":"{\"a\":1,\"b\":2}"}},
			{"id":"call_b","type":"function","function":{"name":"now","arguments":"{}"}}]},
		{"role":"tool","tool_call_id":"call_a","content":"result of add round 1"},
		{"role":"tool","tool_call_id":"call_b","content":"result of now round 1"},
		{"role":"assistant","content":null,"tool_calls":[
			{"id":"call_a","type":"function","function":{"name":"add","arguments":"{\"a\":1,\"b\":2}"}}]},
		{"role":"tool","tool_call_id":"call_a","content":"result of add round 2"}]`)
	if last := req.Messages[len(req.Messages)-1]; last.Content != "3, at noon" {
		t.Errorf("last answer = %+v", last)
	}
}

// chatOrStream calls Chat or Stream.
func chatOrStream(t *testing.T, p llm.Provider, req llm.Request, stream bool) llm.Response {
	t.Helper()
	var resp llm.Response
	var err error
	if stream {
		var c collect
		resp, err = p.Stream(testContext(t), req, c.emit)
	} else {
		resp, err = p.Chat(testContext(t), req)
	}
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestNoKeyNoAuthorization(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t)
	srv.Push(openaitest.Reply{Content: "hi"})
	p := newClient(srv, "")
	if _, err := p.Chat(testContext(t), llm.Request{Model: "llama"}); err != nil {
		t.Fatal(err)
	}
	if h, ok := srv.Requests()[0].Header["Authorization"]; ok {
		t.Errorf("Authorization header %q sent without a key", h)
	}
}
