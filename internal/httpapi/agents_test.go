package httpapi

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/catalog"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/sealer"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// testAgents seeds the catalog and builds the agent service of a test API.
func testAgents(t testing.TB, db store.Store, tools *tool.Executor) (*sealer.Sealer, *agent.Service) {
	t.Helper()
	if _, err := catalog.Seed(t.Context(), db, time.Now()); err != nil {
		t.Fatal(err)
	}
	seal, err := sealer.New("", strings.Repeat("s", 40))
	if err != nil {
		t.Fatal(err)
	}
	providers := agent.NewProviders(agent.ProvidersConfig{Store: db, Sealer: seal, Getenv: func(string) string { return "" },
		Resilience: llm.ResilienceOptions{InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, FailureThreshold: 2}})
	return seal, agent.NewService(db, providers, tools, nil, nil, agent.Options{})
}

func TestCatalogAndProviderKeys(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, admin := cs[1].token, cs[3].token
	code, body := api(t, "GET", s.srv.URL+"/providers", viewer, "")
	if code != 200 || !strings.Contains(body, `"name":"anthropic"`) || !strings.Contains(body, `"configured":false`) {
		t.Fatalf("providers: %d %s", code, body)
	}
	code, body = api(t, "PUT", s.srv.URL+"/settings/providers/openai", admin, `{"api_key":"sk-very-secret-1234"}`)
	if code != 200 || strings.Contains(body, "very-secret") || !strings.Contains(body, `"key_hint":"…1234"`) || !strings.Contains(body, `"configured":true`) {
		t.Fatalf("set key: %d %s", code, body)
	}
	for _, path := range []string{"/providers", "/providers/openai"} {
		if _, body := api(t, "GET", s.srv.URL+path, admin, ""); strings.Contains(body, "very-secret") {
			t.Fatalf("%s shows the key: %s", path, body)
		}
	}
	cred, err := s.store.CredentialGet(t.Context(), "openai")
	if err != nil || strings.Contains(string(cred.Sealed), "very-secret") {
		t.Fatalf("the key is stored in clear: %v", err)
	}
	code, body = api(t, "PUT", s.srv.URL+"/settings/providers/openai", admin, `{"api_key":"x"}`)
	mustStatus(t, 422, code, body, "short key")
	code, body = api(t, "GET", s.srv.URL+"/models?provider=anthropic", viewer, "")
	if code != 200 || !strings.Contains(body, `"name":"claude-sonnet-4-5"`) || !strings.Contains(body, `"price_input":3`) {
		t.Fatalf("models: %d %s", code, body)
	}
	code, body = api(t, "POST", s.srv.URL+"/providers", admin, `{"name":"local-vllm","kind":"openai","base_url":"http://127.0.0.1:9/v1"}`)
	mustStatus(t, 201, code, body, "custom provider")
	code, body = api(t, "DELETE", s.srv.URL+"/providers/openai", admin, "")
	mustStatus(t, 409, code, body, "delete a built-in provider")
	code, body = api(t, "PATCH", s.srv.URL+"/providers/ollama", admin, `{"base_url":"http://10.0.0.5:11434/v1/"}`)
	if code != 200 || !strings.Contains(body, `"base_url":"http://10.0.0.5:11434/v1"`) || !strings.Contains(body, `"is_builtin":true`) {
		t.Fatalf("patch a provider: %d %s", code, body)
	}
	code, body = api(t, "PATCH", s.srv.URL+"/providers/ollama", admin, `{"base_url":"ftp://x"}`)
	mustStatus(t, 422, code, body, "patch with a bad URL")
}

func TestPersonasAndAgents(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	member := callers(t, s)[2].token
	code, body := api(t, "GET", s.srv.URL+"/personas?limit=100", member, "")
	personas := decodeList[PersonaResponse](t, body)
	if code != 200 || personas.Total < 12 || !personas.Items[0].IsBuiltin {
		t.Fatalf("personas: %d %s", code, body)
	}
	builtinID := strconv.FormatInt(personas.Items[0].ID, 10)
	code, body = api(t, "DELETE", s.srv.URL+"/personas/"+builtinID, member, "")
	mustStatus(t, 409, code, body, "delete a built-in persona")
	code, body = api(t, "POST", s.srv.URL+"/agents", member, `{"name":"Ada","persona_id":`+builtinID+`,"provider":"openai","model":"mini","skills":["test"]}`)
	mustStatus(t, 201, code, body, "agent from a persona")
	if !strings.Contains(body, `"model":"gpt-4o-mini"`) || !strings.Contains(body, `"skills":["test"]`) || !strings.Contains(body, `"status":"idle"`) {
		t.Fatalf("agent: %s", body)
	}
	code, body = api(t, "POST", s.srv.URL+"/agents", member, `{"name":"Bob","persona":{"display_name":"Bob's persona","role":"helper","base_prompt":"Help."},"provider":"openai","model":"gpt-4o"}`)
	mustStatus(t, 201, code, body, "agent with an inline persona")
	code, body = api(t, "POST", s.srv.URL+"/agents", member, `{"name":"Eve","persona_id":1,"provider":"openai","model":"no-such-model","temperature":3}`)
	if code != 422 || !strings.Contains(body, `"temperature"`) {
		t.Fatalf("invalid agent: %d %s", code, body)
	}
	code, body = api(t, "POST", s.srv.URL+"/agents", member, `{"name":"Eve","persona_id":1,"provider":"openai","model":"no-such-model"}`)
	if code != 422 || !strings.Contains(body, `"model"`) {
		t.Fatalf("unknown model: %d %s", code, body)
	}
	code, body = api(t, "POST", s.srv.URL+"/agents", member, `{"name":"Ada","persona_id":1,"provider":"openai","model":"gpt-4o"}`)
	mustStatus(t, 409, code, body, "duplicate agent name")
	var ada AgentResponse
	_, body = api(t, "GET", s.srv.URL+"/agents", member, "")
	ada = decodeList[AgentResponse](t, body).Items[0]
	code, body = api(t, "POST", s.srv.URL+"/agents/"+strconv.FormatInt(ada.ID, 10)+"/chat", member, `{"message":"Hello"}`)
	if code != 503 || !strings.Contains(body, "OPENAI_API_KEY") {
		t.Fatalf("chat without a key: %d %s", code, body)
	}
}

// TestChatOverHTTP chats with an agent on a fake provider, as JSON and as
// server-sent events, then reads the history and the usage.
func TestChatOverHTTP(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	member := callers(t, s)[2].token
	fake := openaitest.New(t)
	now := time.Now()
	if _, err := s.store.ProviderPut(t.Context(), store.Provider{Name: "fake", Kind: store.KindOpenAI, BaseURL: fake.URL, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.ModelPut(t.Context(), store.Model{Provider: "fake", Name: "fake-1", ContextWindow: 8000, MaxOutput: 500, PriceInput: 1, PriceOutput: 2, Streaming: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	code, body := api(t, "POST", s.srv.URL+"/agents", member, `{"name":"Ada","persona_id":1,"provider":"fake","model":"fake-1"}`)
	mustStatus(t, 201, code, body, "agent")
	var ada AgentResponse
	_ = json.Unmarshal([]byte(body), &ada)
	base := s.srv.URL + "/agents/" + strconv.FormatInt(ada.ID, 10)
	fake.Push(openaitest.Reply{Content: "Hi there.", Usage: llm.Usage{InputTokens: 100, OutputTokens: 10}},
		openaitest.Reply{Content: "Streaming works.", Usage: llm.Usage{InputTokens: 120, OutputTokens: 5}, Chunks: 3})
	code, body = api(t, "POST", base+"/chat", member, `{"message":"Hello"}`)
	var res agent.ChatResult
	if err := json.Unmarshal([]byte(body), &res); err != nil || code != 200 || res.Content != "Hi there." || res.Usage.InputTokens != 100 {
		t.Fatalf("chat: %d %s", code, body)
	}
	frames := streamChat(t, base+"/chat", member, `{"message":"And streaming?","session_id":"`+res.SessionID+`"}`)
	if frames[0] != "start" || frames[len(frames)-1] != "done" || !strings.Contains(strings.Join(frames, " "), "token") {
		t.Fatalf("frames: %v", frames)
	}
	code, body = api(t, "GET", base+"/history?session_id="+res.SessionID, member, "")
	if history := decodeList[MessageResponse](t, body); code != 200 || history.Total != 4 || history.Items[3].Content != "Streaming works." {
		t.Fatalf("history: %d %s", code, body)
	}
	code, body = api(t, "GET", base+"/history", member, "")
	mustStatus(t, 422, code, body, "history without a session")
	code, body = api(t, "GET", s.srv.URL+"/usage?group_by=model", member, "")
	if code != 200 || !strings.Contains(body, `"key":"fake/fake-1"`) || !strings.Contains(body, `"calls":2`) || !strings.Contains(body, `"input_tokens":220`) {
		t.Fatalf("usage: %d %s", code, body)
	}
}

// streamChat posts a chat asking for server-sent events and returns the
// event names in order.
func streamChat(t *testing.T, url, token, body string) []string {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("stream answered %d %s", resp.StatusCode, ct)
	}
	var names []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			names = append(names, name)
		}
	}
	return names
}

func TestDeletingAnAgentForgetsItsMemories(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	member := callers(t, s)[2].token
	code, body := api(t, "POST", s.srv.URL+"/agents", member, `{"name":"Forgetful","persona_id":1,"provider":"openai","model":"gpt-4o"}`)
	mustStatus(t, 201, code, body, "agent")
	var ag AgentResponse
	_ = json.Unmarshal([]byte(body), &ag)
	id := strconv.FormatInt(ag.ID, 10)
	code, body = api(t, "POST", s.srv.URL+"/memories/agents/"+id+"/remember", member, `{"content":"The deploy key is rotated on Mondays.","memory_type":"fact"}`)
	mustStatus(t, 201, code, body, "remember")
	code, body = api(t, "DELETE", s.srv.URL+"/agents/"+id, member, "")
	mustStatus(t, 204, code, body, "delete the agent")
	if _, total, err := s.store.MemoryList(t.Context(), store.MemoryFilter{AgentID: ag.ID}, store.Page{}); err != nil || total != 0 {
		t.Fatalf("memories left: %d, %v", total, err)
	}
}
