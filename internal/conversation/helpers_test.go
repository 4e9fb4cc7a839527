package conversation_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/agent/agenttest"
	"github.com/gathering/gathering/internal/conversation"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/startstop"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
	"github.com/gathering/gathering/internal/tool"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// spyChat passes turns to an agent service, reports when each ends while
// its buffer has room, and adds up the time spent in them.
type spyChat struct {
	svc   *agent.Service
	ended chan error
	spent atomic.Int64 // nanoseconds inside Chat
}

func (s *spyChat) Chat(ctx context.Context, req agent.ChatRequest) (agent.ChatResult, error) {
	start := time.Now()
	res, err := s.svc.Chat(ctx, req)
	s.spent.Add(int64(time.Since(start)))
	select {
	case s.ended <- err:
	default:
	}
	return res, err
}

// timedTransport carries the provider calls and adds up the time they
// take, from sending the request to reading the whole answer.
type timedTransport struct {
	spent atomic.Int64 // nanoseconds
}

func (tt *timedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	began := time.Now()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		tt.spent.Add(int64(time.Since(began)))
		return nil, err
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, began: began, spent: &tt.spent}
	return resp, nil
}

// timedBody adds the time from the request to its close to spent.
type timedBody struct {
	io.ReadCloser
	began time.Time
	spent *atomic.Int64
	once  sync.Once
}

func (b *timedBody) Close() error {
	b.once.Do(func() { b.spent.Add(int64(time.Since(b.began))) })
	return b.ReadCloser.Close()
}

// rig is a store with three agents (Ada, Bob and Cy, in that order) on a
// fake OpenAI-compatible provider, a member, and the services a
// conversation needs.
type rig struct {
	db     store.Store
	bus    *event.Bus
	fake   *openaitest.Server
	chat   *spyChat
	wire   *timedTransport // the provider calls
	agents []int64
	userID int64
}

// newRig builds a rig on db (nil: a fresh SQLite store); its services
// stop when the test ends.
func newRig(t testing.TB, db store.Store) *rig {
	t.Helper()
	r := &rig{db: db, fake: openaitest.New(t), chat: &spyChat{ended: make(chan error, 100)}, wire: &timedTransport{}}
	if r.db == nil {
		r.db = storetest.SQLite(t)
	}
	r.bus = newBus(t)
	exec := tool.NewExecutor(tool.NewRegistry(), r.db, r.bus, tool.ExecutorOptions{Instance: "test", Exclusive: true})
	r.chat.svc = agenttest.NewService(t, r.db, exec, &http.Client{Transport: r.wire})
	start(t, exec)
	agenttest.Seed(t, r.db, r.fake.URL, func(m *store.Model) { m.ContextWindow, m.Tools = 64000, false })
	for _, name := range []string{"Ada", "Bob", "Cy"} {
		r.agents = append(r.agents, agenttest.Agent(t, r.db, store.Agent{Name: name}))
	}
	r.userID = agenttest.User(t, r.db, "Grace", gathering.RoleMember)
	return r
}

// newBus returns a started bus, stopped when the test ends.
func newBus(t testing.TB) *event.Bus {
	t.Helper()
	b := event.NewBus(event.Config{})
	start(t, b)
	return b
}

// service starts a conversation service of the rig as instance; it stops
// when the test ends.
func (r *rig) service(t testing.TB, instance string, opts conversation.Options) *conversation.Service {
	t.Helper()
	svc := r.unstarted(instance, opts)
	start(t, svc)
	return svc
}

// unstarted is a service of the rig that runs nothing: a stand-in for the
// API of another instance.
func (r *rig) unstarted(instance string, opts conversation.Options) *conversation.Service {
	opts.Instance = instance
	if opts.Lease == 0 {
		opts.Lease = 3 * time.Second
	}
	return conversation.New(r.db, r.chat, nil, r.bus, opts)
}

// start starts services and stops them, in reverse order, when the test
// ends.
func start(t testing.TB, services ...startstop.Service) {
	t.Helper()
	agenttest.Start(t, services...)
}

// create records a conversation of the rig's three agents, by the rig's
// member, with the strategy and turn limit given.
func (r *rig) create(t testing.TB, svc *conversation.Service, strategy store.TurnStrategy, turns int) store.Conversation {
	t.Helper()
	c, err := svc.Create(context.Background(), conversation.NewConversation{Topic: "Which database?", AgentIDs: r.agents,
		MaxTurns: turns, InitialPrompt: "Pick one for the team.", Strategy: strategy, CreatedBy: r.userID})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// begin creates a conversation and starts it.
func (r *rig) begin(t testing.TB, svc *conversation.Service, strategy store.TurnStrategy, turns int) store.Conversation {
	t.Helper()
	c, err := svc.Begin(context.Background(), r.create(t, svc, strategy, turns).ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wait polls a conversation until ok holds, failing after limit.
func (r *rig) wait(t testing.TB, id string, limit time.Duration, ok func(store.Conversation) bool) store.Conversation {
	t.Helper()
	var c store.Conversation
	held := agenttest.Eventually(limit, func() bool {
		var err error
		if c, err = r.db.ConversationGet(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		return ok(c)
	})
	if !held {
		t.Fatalf("conversation %s still %s after %s (%d turns)", id, c.Status, limit, c.TurnsTaken)
	}
	return c
}

// ended waits for a conversation to end.
func (r *rig) ended(t testing.TB, id string) store.Conversation {
	t.Helper()
	return r.wait(t, id, 20*time.Second, func(c store.Conversation) bool { return c.Status.Ended() })
}

// messages returns every message of a conversation.
func (r *rig) messages(t testing.TB, id string) []store.ConversationMessage {
	t.Helper()
	msgs, _, err := r.db.ConversationMessages(context.Background(), id, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// speakers returns who wrote each message of a conversation.
func (r *rig) speakers(t testing.TB, id string) []string {
	t.Helper()
	var out []string
	for _, m := range r.messages(t, id) {
		out = append(out, m.Speaker)
	}
	return out
}

// chatRequests returns the chat requests the fake provider received.
func (r *rig) chatRequests() []openaitest.Request { return agenttest.Chats(r.fake) }

// waitRequests waits until the fake provider received n chat requests.
func (r *rig) waitRequests(t testing.TB, n int) {
	t.Helper()
	agenttest.AwaitChats(t, r.fake, n, 20*time.Second)
}

// asked returns the agent a chat request was for (its system prompt
// begins "You are <name>,") and the request's last user message.
func asked(req openaitest.Request) (name, user string) {
	msgs, _ := req.Body["messages"].([]any)
	for _, raw := range msgs {
		m, _ := raw.(map[string]any)
		content, _ := m["content"].(string)
		switch m["role"] {
		case "system":
			name, _, _ = strings.Cut(strings.TrimPrefix(content, "You are "), ",")
		case "user":
			user = content
		}
	}
	return name, user
}

// subscribe follows the events of conversations on the rig's bus.
func (r *rig) subscribe(t testing.TB) *event.Subscription {
	t.Helper()
	sub, err := r.bus.Subscribe(event.SubscribeOptions{Filter: event.Filter{Types: []string{"conversation.*"}}, Overflow: event.Block})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	return sub
}

// eventsUntil reads the events of conversation id until one of type last.
func eventsUntil(t testing.TB, sub *event.Subscription, id, last string) []event.Event {
	t.Helper()
	var out []event.Event
	timeout := time.After(20 * time.Second)
	for {
		select {
		case f := <-sub.Frames():
			var ref struct {
				ConversationID string `json:"conversation_id"`
			}
			if f.Kind != event.KindEvent || json.Unmarshal(f.Event.Data, &ref) != nil || ref.ConversationID != id {
				continue
			}
			out = append(out, f.Event)
			if f.Event.Type == last {
				return out
			}
		case <-timeout:
			t.Fatalf("no %s event; got %d events", last, len(out))
		}
	}
}

// reply is a scripted answer with some usage.
func reply(content string) openaitest.Reply {
	return openaitest.Reply{Content: content, Usage: llm.Usage{InputTokens: 100 + len(content), OutputTokens: len(content)}}
}
