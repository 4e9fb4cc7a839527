package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/store"
)

// talkers registers a provider endpoint at url, a model and three agents
// on it (Ada, Bob and Cy), and returns their ids as JSON list items.
func talkers(t *testing.T, s setup, url string) []string {
	t.Helper()
	now := time.Now()
	if _, err := s.store.ProviderPut(t.Context(), store.Provider{Name: "fake", Kind: store.KindOpenAI, BaseURL: url, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.ModelPut(t.Context(), store.Model{Provider: "fake", Name: "fake-1", ContextWindow: 64000, MaxOutput: 500, PriceInput: 1, PriceOutput: 2, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, name := range []string{"Ada", "Bob", "Cy"} {
		ag, err := s.store.AgentCreate(t.Context(), store.Agent{Name: name, PersonaID: 1, Provider: "fake", Model: "fake-1", CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, strconv.FormatInt(ag.ID, 10))
	}
	return ids
}

// conversationBody is a creation request for the agents, with the
// strategy and turn limit given.
func conversationBody(agents []string, strategy string, turns int) string {
	return fmt.Sprintf(`{"topic":"Which database?","agent_ids":[%s],"max_turns":%d,"initial_prompt":"Pick one.","turn_strategy":%q}`,
		strings.Join(agents, ","), turns, strategy)
}

func decodeConversation(t *testing.T, body string) ConversationDetailResponse {
	t.Helper()
	var c ConversationDetailResponse
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// awaitConversation polls a conversation over the API until it has status.
func awaitConversation(t *testing.T, s setup, token, id, status string) ConversationDetailResponse {
	t.Helper()
	var c ConversationDetailResponse
	within(t, 15*time.Second, "conversation "+id+" becomes "+status, func() bool {
		code, body := api(t, "GET", s.srv.URL+"/conversations/"+id, token, "")
		mustStatus(t, 200, code, body, "get a conversation")
		c = decodeConversation(t, body)
		return c.Status == status
	})
	return c
}

func TestConversationsOverHTTP(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	fake := openaitest.New(t)
	agents := talkers(t, s, fake.URL)
	url := s.srv.URL + "/conversations"
	code, body := api(t, "POST", url, viewer, conversationBody(agents, "round_robin", 3))
	mustStatus(t, 403, code, body, "a viewer creates a conversation")
	code, body = api(t, "POST", url, member, `{"topic":"","agent_ids":[`+agents[0]+`,4242],"max_turns":51,"turn_strategy":"loudest","initial_prompt":"`+strings.Repeat("x", 20001)+`"}`)
	mustStatus(t, 422, code, body, "an invalid conversation")
	for _, field := range []string{"topic", "initial_prompt", "max_turns", "turn_strategy", "agent_ids/1"} {
		if !slices.Contains(problemFields(t, body), field) {
			t.Errorf("422 lacks %s: %s", field, body)
		}
	}
	code, body = api(t, "POST", url, member, `{"topic":"x","agent_ids":[`+agents[0]+`]}`)
	if mustStatus(t, 422, code, body, "one agent"); !slices.Equal(problemFields(t, body), []string{"agent_ids"}) {
		t.Errorf("one agent: %s", body)
	}

	fake.Push(openaitest.Reply{Content: "Postgres.", Usage: llm.Usage{InputTokens: 40, OutputTokens: 2}},
		openaitest.Reply{Content: "SQLite, @Ada."}, openaitest.Reply{Content: "Both."}, openaitest.Reply{Content: "They chose both."})
	resp, body := post(t, "POST", url, member, conversationBody(agents, "round_robin", 3))
	mustStatus(t, 201, resp.StatusCode, body, "create a conversation")
	conv := decodeConversation(t, body)
	if conv.Status != "pending" || conv.MaxTurns != 3 || conv.TurnStrategy != "round_robin" || resp.Header.Get("Location") != "/conversations/"+conv.ID {
		t.Fatalf("created %s (Location %q)", body, resp.Header.Get("Location"))
	}
	code, body = api(t, "POST", url+"/"+conv.ID+"/start", viewer, "")
	mustStatus(t, 403, code, body, "a viewer starts a conversation")
	code, body = api(t, "POST", url+"/"+conv.ID+"/start", member, "")
	if mustStatus(t, 202, code, body, "start"); decodeConversation(t, body).Status != "active" {
		t.Fatalf("started %s", body)
	}
	done := awaitConversation(t, s, viewer, conv.ID, "completed")
	names := []string{done.Participants[0].Name, done.Participants[1].Name, done.Participants[2].Name}
	if done.TurnsTaken != 3 || done.MessageCount != 3 || done.Summary != "They chose both." || !slices.Equal(names, []string{"Ada", "Bob", "Cy"}) ||
		done.StartedAt.IsZero() || done.CompletedAt.IsZero() {
		t.Fatalf("completed %+v", done)
	}
	code, body = api(t, "GET", url+"/"+conv.ID+"/messages?limit=2&offset=1", viewer, "")
	mustStatus(t, 200, code, body, "messages")
	page := decodeList[ConversationMessageResponse](t, body)
	if page.Total != 3 || len(page.Items) != 2 || page.Items[0].Seq != 2 || page.Items[0].Speaker != "Bob" ||
		!slices.Equal(page.Items[0].Mentions, []int64{mustInt(t, agents[0])}) || page.Items[1].Content != "Both." {
		t.Fatalf("messages page %+v", page)
	}
	code, body = api(t, "GET", url+"/"+conv.ID+"/messages?limit=1", viewer, "")
	if first := decodeList[ConversationMessageResponse](t, body).Items[0]; code != 200 || first.Usage.InputTokens != 40 || first.Usage.Cost <= 0 {
		t.Fatalf("first message %d %s", code, body)
	}
	code, body = api(t, "GET", url+"/"+conv.ID+"/transcript", viewer, "")
	mustStatus(t, 200, code, body, "transcript")
	var tr ConversationTranscriptResponse
	if err := json.Unmarshal([]byte(body), &tr); err != nil || tr.ConversationID != conv.ID || tr.Topic != "Which database?" ||
		tr.Transcript != "Ada: Postgres.\nBob: SQLite, @Ada.\nCy: Both.\n" {
		t.Fatalf("transcript %s", body)
	}

	fake.Push(openaitest.Reply{Content: "Cy again."}, openaitest.Reply{Content: "Second summary."})
	code, body = api(t, "POST", url+"/"+conv.ID+"/advance", member, `{"prompt":"@cy, anything else?","turns":51}`)
	mustStatus(t, 422, code, body, "advance by 51 turns")
	code, body = api(t, "POST", url+"/"+conv.ID+"/advance", member, `{"prompt":"@cy, anything else?","turns":1}`)
	if mustStatus(t, 202, code, body, "advance"); decodeConversation(t, body).MaxTurns != 4 {
		t.Fatalf("advanced %s", body)
	}
	awaitConversation(t, s, viewer, conv.ID, "completed")
	code, body = api(t, "GET", url+"/"+conv.ID+"/transcript", viewer, "")
	if !strings.HasSuffix(body, `Cy: Both.\nmember: @cy, anything else?\nAda: Cy again.\n"}`+"\n") {
		t.Fatalf("transcript after a prompt: %d %s", code, body) // round robin: after Cy comes Ada
	}

	code, body = api(t, "GET", url+"?status=completed", viewer, "")
	if code != 200 || decodeList[ConversationResponse](t, body).Total != 1 {
		t.Fatalf("list: %d %s", code, body)
	}
	code, body = api(t, "GET", url+"?status=sleeping", viewer, "")
	mustStatus(t, 422, code, body, "an unknown status")
	code, body = api(t, "POST", url+"/"+conv.ID+"/start", member, "")
	mustStatus(t, 409, code, body, "start a completed conversation")
	code, body = api(t, "POST", url+"/"+conv.ID+"/cancel", member, "")
	mustStatus(t, 409, code, body, "cancel a completed conversation")
	code, body = api(t, "DELETE", url+"/"+conv.ID, viewer, "")
	mustStatus(t, 403, code, body, "a viewer deletes a conversation")
	code, body = api(t, "DELETE", url+"/"+conv.ID, member, "")
	mustStatus(t, 204, code, body, "delete")
	for _, path := range []string{"", "/transcript", "/messages"} {
		code, body = api(t, "GET", url+"/"+conv.ID+path, viewer, "")
		mustStatus(t, 404, code, body, "GET "+path+" of a deleted conversation")
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestConversationCancelOverHTTP: a conversation waiting on a stalled
// provider cannot be deleted; cancelling it stops it at once.
func TestConversationCancelOverHTTP(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	member := callers(t, s)[2].token
	fake := openaitest.New(t)
	fake.SetFallback(openaitest.Reply{Stall: time.Minute})
	agents := talkers(t, s, fake.URL)
	url := s.srv.URL + "/conversations"
	code, body := api(t, "POST", url, member, conversationBody(agents, "free_form", 5))
	mustStatus(t, 201, code, body, "create")
	id := decodeConversation(t, body).ID
	code, body = api(t, "POST", url+"/"+id+"/start", member, "")
	mustStatus(t, 202, code, body, "start")
	within(t, 10*time.Second, "the first turn is asked", func() bool { return len(fake.Requests()) > 0 })
	code, body = api(t, "DELETE", url+"/"+id, member, "")
	mustStatus(t, 409, code, body, "delete an active conversation")
	code, body = api(t, "POST", url+"/"+id+"/cancel", member, "")
	if mustStatus(t, 200, code, body, "cancel"); decodeConversation(t, body).Status != "cancelled" {
		t.Fatalf("cancelled %s", body)
	}
	code, body = api(t, "POST", url+"/"+id+"/advance", member, `{"prompt":"Back?","turns":1}`)
	mustStatus(t, 409, code, body, "advance a cancelled conversation")
	code, body = api(t, "DELETE", url+"/"+id, member, "")
	mustStatus(t, 204, code, body, "delete a cancelled conversation")
}

// readFrame reads one frame of a conversation socket.
func readFrame(t *testing.T, conn *websocket.Conn) (ConversationFrame, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	_, b, err := conn.Read(ctx)
	if err != nil {
		return ConversationFrame{}, err
	}
	var f ConversationFrame
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f, nil
}

// TestConversationOverWebSocket: an authenticated client sees the
// conversation's state, each turn live as it is recorded, and its end,
// then the server closes; a client that comes later gets it all at once;
// an anonymous client and an unknown conversation are refused.
func TestConversationOverWebSocket(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	fake := openaitest.New(t)
	agents := talkers(t, s, fake.URL)
	code, body := api(t, "POST", s.srv.URL+"/conversations", member, conversationBody(agents, "mention_based", 3))
	mustStatus(t, 201, code, body, "create")
	id := decodeConversation(t, body).ID
	wsURL := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws/conversation/"
	dial := func(path, token string) *websocket.Conn {
		opts := &websocket.DialOptions{}
		if token != "" {
			opts.HTTPHeader = http.Header{"Authorization": {"Bearer " + token}}
		}
		conn, _, err := websocket.Dial(t.Context(), wsURL+path, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		return conn
	}

	if _, err := readFrame(t, dial(id, "")); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("an anonymous socket: %v", err)
	}
	if _, err := readFrame(t, dial("nosuch", viewer)); websocket.CloseStatus(err) != statusNotFound {
		t.Fatalf("the socket of an unknown conversation: %v", err)
	}
	resp, _ := get(t, s.srv.URL+"/ws/conversation/"+id)
	if resp.StatusCode != 401 {
		t.Fatalf("a plain anonymous GET: %d", resp.StatusCode)
	}

	live := dial(id, viewer)
	if f, err := readFrame(t, live); err != nil || f.Type != "status" || f.Conversation.Status != "pending" {
		t.Fatalf("first frame %+v, %v", f, err)
	}
	fake.Push(openaitest.Reply{Content: "Over to @Cy."}, openaitest.Reply{Stall: time.Second, Content: "Cy here."},
		openaitest.Reply{Content: "Done.\n[DONE]"}, openaitest.Reply{Content: "Summary."})
	code, body = api(t, "POST", s.srv.URL+"/conversations/"+id+"/start", member, "")
	mustStatus(t, 202, code, body, "start")
	var seen []string
	var end ConversationFrame
	for end.Type == "" {
		f, err := readFrame(t, live)
		switch {
		case err != nil:
			t.Fatalf("after %v: %v", seen, err)
		case f.Type == "message":
			seen = append(seen, fmt.Sprintf("%d %s: %s", f.Message.Seq, f.Message.Speaker, f.Message.Content))
			if f.Message.Seq == 1 { // live: Cy's stalled turn is still to come
				code, body := api(t, "GET", s.srv.URL+"/conversations/"+id, viewer, "")
				if c := decodeConversation(t, body); code != 200 || c.TurnsTaken != 1 {
					t.Errorf("the first turn came after %d turns were taken", c.TurnsTaken)
				}
			}
		case f.Type == "end":
			end = f
		case f.Type == "status" && f.Conversation.Status != "active":
			t.Fatalf("status frame %+v", f.Conversation)
		}
	}
	want := []string{"1 Ada: Over to @Cy.", "2 Cy: Cy here.", "3 Ada: Done.\n[DONE]"}
	if !slices.Equal(seen, want) || end.Conversation.Status != "completed" || end.Conversation.Summary != "Summary." {
		t.Fatalf("live: %q, end %+v", seen, end.Conversation)
	}
	if _, err := readFrame(t, live); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("after the end: %v", err)
	}

	later := dial(id, viewer)
	var replay []string
	for {
		f, err := readFrame(t, later)
		if err != nil {
			t.Fatalf("replay: %v", err)
		}
		if f.Type == "end" {
			break
		}
		replay = append(replay, fmt.Sprintf("%d %s: %s", f.Message.Seq, f.Message.Speaker, f.Message.Content))
	}
	if !slices.Equal(replay, want) {
		t.Fatalf("replay %q", replay)
	}
}

// TestConversationInCircle: a circle's conversation takes only the
// circle's members, and an unknown circle is a field error; its events
// also go to the circle's topic.
func TestConversationInCircle(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	member := callers(t, s)[2].token
	fake := openaitest.New(t)
	agents := talkers(t, s, fake.URL)
	code, body := api(t, "POST", s.srv.URL+"/circles", member, `{"name":"core"}`)
	mustStatus(t, 201, code, body, "create a circle")
	for _, id := range agents[:2] {
		code, body = api(t, "POST", s.srv.URL+"/circles/core/agents", member, `{"agent_id":`+id+`}`)
		mustStatus(t, 201, code, body, "add a member")
	}
	create := func(circle string, ids []string) (int, string) {
		return api(t, "POST", s.srv.URL+"/conversations", member,
			`{"topic":"Plans","circle":"`+circle+`","agent_ids":[`+strings.Join(ids, ",")+`]}`)
	}
	code, body = create("core", agents)
	if mustStatus(t, 422, code, body, "an agent outside the circle"); !slices.Equal(problemFields(t, body), []string{"agent_ids/2"}) {
		t.Errorf("an agent outside the circle: %s", body)
	}
	code, body = create("nosuch", agents[:2])
	if mustStatus(t, 422, code, body, "an unknown circle"); !slices.Equal(problemFields(t, body), []string{"circle"}) {
		t.Errorf("an unknown circle: %s", body)
	}
	sub, err := s.api.bus.Subscribe(event.SubscribeOptions{Filter: event.Filter{Types: []string{"conversation.*"}, Topics: []string{"circle:core"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	code, body = create("core", agents[:2])
	conv := decodeConversation(t, body)
	if mustStatus(t, 201, code, body, "a circle's conversation"); conv.Circle != "core" {
		t.Fatalf("created %s", body)
	}
	select {
	case f := <-sub.Frames():
		if f.Event.Type != "conversation.created" || !strings.Contains(string(f.Event.Data), conv.ID) {
			t.Errorf("on the circle's topic: %s %s", f.Event.Type, f.Event.Data)
		}
	case <-time.After(5 * time.Second):
		t.Error("no event on the circle's topic")
	}
}
