package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/llm/openai/openaitest"
)

// TestProcessMemoryThroughAProvider runs the real binary with
// GATHERING_EMBEDDER naming a catalog provider (a fake OpenAI-compatible
// server added through the API after start): an agent remembers through
// /memories, recalls, and a chat with include_memories sends the recalled
// memory to the model.
func TestProcessMemoryThroughAProvider(t *testing.T) {
	t.Parallel()
	fake := openaitest.New(t)
	fake.SetDimension(16)
	fake.RequireKey("sk-memory-test")
	vars, password := adminVars(t)
	vars = append(vars, "SECRET_KEY="+strings.Repeat("a", 40), "GATHERING_EMBEDDER=provider:fake:embed-small:16")
	p := serveProcess(t, t.TempDir(), vars...)
	token := accessToken(t, p.url, "ops@example.com", password)
	mustRequest(t, 201, "POST", p.url+"/providers", token, `{"name":"fake","kind":"openai","base_url":"`+fake.URL+`"}`)
	mustRequest(t, 201, "POST", p.url+"/models", token, `{"provider":"fake","name":"fake-1","context_window":8000,"max_output":500,"price_input":1,"price_output":2}`)
	mustRequest(t, 200, "PUT", p.url+"/settings/providers/fake", token, `{"api_key":"sk-memory-test"}`)
	var ag struct{ ID int64 }
	_ = json.Unmarshal([]byte(mustRequest(t, 201, "POST", p.url+"/agents", token, `{"name":"Ada","persona_id":1,"provider":"fake","model":"fake-1"}`)), &ag)
	base := p.url + "/memories/agents/" + strconv.FormatInt(ag.ID, 10)

	// The fake's vectors are hashes: only the same text is alike.
	const door = "Which door leads to the garden? The blue one."
	if body := mustRequest(t, 201, "POST", base+"/remember", token, `{"content":"`+door+`","memory_type":"fact"}`); !strings.Contains(body, `"embedder":"provider:fake:embed-small"`) {
		t.Fatalf("remember: %s", body)
	}
	mustRequest(t, 201, "POST", base+"/remember", token, `{"content":"Ada likes tea.","memory_type":"preference"}`)
	if body := mustRequest(t, 200, "POST", base+"/recall", token, `{"query":"`+door+`","limit":1}`); !strings.Contains(body, `"similarity":1`) {
		t.Fatalf("recall: %s", body)
	}
	fake.Push(openaitest.Reply{Content: "The blue one."})
	mustRequest(t, 200, "POST", p.url+"/agents/"+strconv.FormatInt(ag.ID, 10)+"/chat", token, `{"message":"`+door+`","include_memories":true}`)
	var chat []openaitest.Request
	for _, r := range fake.Requests() {
		if r.Path == "/v1/chat/completions" {
			chat = append(chat, r)
		}
	}
	if len(chat) != 1 || !strings.Contains(string(chat[0].Raw), "What you remember that may be relevant:\\n1. "+door) {
		t.Fatalf("the chat did not carry the memory: %d requests", len(chat))
	}
}
