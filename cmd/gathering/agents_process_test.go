package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/store/pgtest"
)

// TestProcessAgentsSurviveRestart creates a provider endpoint (a fake
// OpenAI-compatible server), a model, a key and an agent through the API of
// the real binary, chats, restarts the binary, and finds the agent, its
// history, its memories, its usage and its key again — on both backends.
func TestProcessAgentsSurviveRestart(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			fake := openaitest.New(t)
			fake.RequireKey("sk-restart-test")
			vars, password := adminVars(t)
			vars = append(vars, "SECRET_KEY="+strings.Repeat("a", 40))
			if backend == "postgres" {
				vars = append(vars, "DATABASE_URL="+pgtest.NewDatabase(t))
			}
			dir := t.TempDir()
			p := serveProcess(t, dir, vars...)
			token := accessToken(t, p.url, "ops@example.com", password)
			mustRequest(t, 201, "POST", p.url+"/providers", token, `{"name":"fake","kind":"openai","base_url":"`+fake.URL+`"}`)
			mustRequest(t, 201, "POST", p.url+"/models", token, `{"provider":"fake","name":"fake-1","context_window":8000,"max_output":500,"price_input":1,"price_output":2,"streaming":true}`)
			mustRequest(t, 200, "PUT", p.url+"/settings/providers/fake", token, `{"api_key":"sk-restart-test"}`)
			body := mustRequest(t, 201, "POST", p.url+"/agents", token, `{"name":"Ada","persona_id":1,"provider":"fake","model":"fake-1"}`)
			var ag struct{ ID int64 }
			_ = json.Unmarshal([]byte(body), &ag)
			base := p.url + "/agents/" + strconv.FormatInt(ag.ID, 10)
			mustRequest(t, 201, "POST", p.url+"/memories/agents/"+strconv.FormatInt(ag.ID, 10)+"/remember", token, `{"content":"The blue door opens with the brass key.","memory_type":"fact"}`)
			fake.Push(openaitest.Reply{Content: "Noted.", Usage: llm.Usage{InputTokens: 40, OutputTokens: 2}})
			var chat struct {
				SessionID string `json:"session_id"`
			}
			_ = json.Unmarshal([]byte(mustRequest(t, 200, "POST", base+"/chat", token, `{"message":"Remember the blue door."}`)), &chat)
			stopProcess(t, p)

			p = serveProcess(t, dir, vars...)
			token = accessToken(t, p.url, "ops@example.com", password)
			base = p.url + "/agents/" + strconv.FormatInt(ag.ID, 10)
			if body := mustRequest(t, 200, "GET", base+"/history?session_id="+chat.SessionID, token, ""); !strings.Contains(body, "blue door") || !strings.Contains(body, "Noted.") {
				t.Fatalf("history after a restart: %s", body)
			}
			if body := mustRequest(t, 200, "GET", p.url+"/usage?group_by=model", token, ""); !strings.Contains(body, `"key":"fake/fake-1"`) {
				t.Fatalf("usage after a restart: %s", body)
			}
			if body := mustRequest(t, 200, "POST", p.url+"/memories/agents/"+strconv.FormatInt(ag.ID, 10)+"/recall", token, `{"query":"which key opens the blue door"}`); !strings.Contains(body, "brass key") {
				t.Fatalf("recall after a restart: %s", body)
			}
			fake.Push(openaitest.Reply{Content: "The blue door."})
			if body := mustRequest(t, 200, "POST", base+"/chat", token, `{"message":"Which door?","session_id":"`+chat.SessionID+`"}`); !strings.Contains(body, "The blue door.") {
				t.Fatalf("chat after a restart (the stored key must still open): %s", body)
			}
		})
	}
}

func mustRequest(t *testing.T, want int, method, url, token, body string) string {
	t.Helper()
	code, got := request(t, method, url, token, body)
	if code != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, code, want, got)
	}
	return got
}
