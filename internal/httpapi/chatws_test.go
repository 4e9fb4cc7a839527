package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/store"
)

// fakeAgent registers a provider endpoint at url, a model and an agent on
// it, and returns the agent's id.
func fakeAgent(t *testing.T, s setup, url string) int64 {
	t.Helper()
	now := time.Now()
	if _, err := s.store.ProviderPut(t.Context(), store.Provider{Name: "fake", Kind: store.KindOpenAI, BaseURL: url, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.ModelPut(t.Context(), store.Model{Provider: "fake", Name: "fake-1", ContextWindow: 8000, MaxOutput: 500, PriceInput: 1, PriceOutput: 2, Streaming: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	ag, err := s.store.AgentCreate(t.Context(), store.Agent{Name: "Ada", PersonaID: 1, Provider: "fake", Model: "fake-1", CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	return ag.ID
}

func TestChatOverWebSocket(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	fake := openaitest.New(t)
	id := strconv.FormatInt(fakeAgent(t, s, fake.URL), 10)
	url := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws/chat/" + id
	dial := func(token string) *websocket.Conn {
		conn, _, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		return conn
	}
	read := func(conn *websocket.Conn) map[string]any {
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		defer cancel()
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var f map[string]any
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	refused := dial(viewer)
	if _, _, err := refused.Read(t.Context()); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("a viewer's chat socket: %v", err)
	}
	conn := dial(member)
	fake.Push(openaitest.Reply{Content: "Hello over a socket.", Usage: llm.Usage{InputTokens: 30, OutputTokens: 4}, Chunks: 4})
	if err := conn.Write(t.Context(), websocket.MessageText, []byte(`{"message":"Hi"}`)); err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var session string
	for f := read(conn); f["type"] != "done"; f = read(conn) {
		switch f["type"] {
		case "start":
			session = f["session_id"].(string)
		case "token":
			text.WriteString(f["content"].(string))
		case "error":
			t.Fatalf("error frame: %v", f)
		}
	}
	if text.String() != "Hello over a socket." || session == "" {
		t.Fatalf("streamed %q in session %q", text.String(), session)
	}
	if err := conn.Write(t.Context(), websocket.MessageText, []byte(`{"message":""}`)); err != nil {
		t.Fatal(err)
	}
	if f := read(conn); f["type"] != "error" || f["status"] != float64(422) {
		t.Fatalf("an empty message: %v", f)
	}
	if err := conn.Write(t.Context(), websocket.MessageText, []byte(`not json`)); err != nil {
		t.Fatal(err)
	}
	if f := read(conn); f["type"] != "error" {
		t.Fatalf("a frame that is not JSON: %v", f)
	}
}

// TestBreakerInHealthChecks: a provider that keeps failing opens its
// breaker, which /health/checks shows, and the next chat fails fast with
// 503 and Retry-After.
func TestBreakerInHealthChecks(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	member := callers(t, s)[2].token
	fake := openaitest.New(t)
	id := strconv.FormatInt(fakeAgent(t, s, fake.URL), 10)
	code, body := api(t, "GET", s.srv.URL+"/health/checks", member, "")
	if code != 200 || !strings.Contains(body, `"status":"ok"`) || !strings.Contains(body, `"providers":[]`) {
		t.Fatalf("checks before any call: %d %s", code, body)
	}
	fake.Push(openaitest.Reply{Status: 500}, openaitest.Reply{Status: 500}, openaitest.Reply{Status: 500})
	code, body = api(t, "POST", s.srv.URL+"/agents/"+id+"/chat", member, `{"message":"Hi"}`)
	mustStatus(t, 503, code, body, "chat on a failing provider")
	code, body = api(t, "GET", s.srv.URL+"/health/checks", member, "")
	if code != 200 || !strings.Contains(body, `"status":"degraded"`) || !strings.Contains(body, `{"provider":"fake","state":"open"}`) {
		t.Fatalf("checks with an open breaker: %d %s", code, body)
	}
	requests := len(fake.Requests())
	code, body = api(t, "POST", s.srv.URL+"/agents/"+id+"/chat", member, `{"message":"Again"}`)
	if code != 503 || !strings.Contains(body, "paused") || len(fake.Requests()) != requests {
		t.Fatalf("chat with the breaker open: %d %s (%d requests)", code, body, len(fake.Requests())-requests)
	}
}
