package background_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/catalog"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/sealer"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
	"github.com/gathering/gathering/internal/tool"
)

// spyChat passes turns to an agent service and reports when each ends,
// while its buffer has room.
type spyChat struct {
	svc   *agent.Service
	ended chan error
}

func (s *spyChat) Chat(ctx context.Context, req agent.ChatRequest) (agent.ChatResult, error) {
	res, err := s.svc.Chat(ctx, req)
	select {
	case s.ended <- err:
	default:
	}
	return res, err
}

// rig is a store with one agent on a fake OpenAI-compatible provider, a
// tool the agent may call (notes.add), and the services a runner needs.
type rig struct {
	db      store.Store
	bus     *event.Bus
	exec    *tool.Executor
	fake    *openaitest.Server
	chat    *spyChat
	agentID int64
	userID  int64
	notes   atomic.Int32 // notes.add calls
}

// newRig builds a rig on db (nil: a fresh SQLite store); its services
// stop when the test ends.
func newRig(t testing.TB, db store.Store) *rig {
	t.Helper()
	r := &rig{db: db, fake: openaitest.New(t), chat: &spyChat{ended: make(chan error, 100)}}
	if r.db == nil {
		r.db = storetest.SQLite(t)
	}
	r.bus = event.NewBus(event.Config{Instance: "test"})
	reg := tool.NewRegistry()
	if err := reg.Register(tool.Tool{Name: "notes.add", Description: "Adds a note.", Input: json.RawMessage(`{"type": "object"}`),
		Run: func(context.Context, json.RawMessage) (json.RawMessage, error) {
			r.notes.Add(1)
			return json.RawMessage(`{"saved": true}`), nil
		}}); err != nil {
		t.Fatal(err)
	}
	r.exec = tool.NewExecutor(reg, r.db, r.bus, tool.ExecutorOptions{Instance: "test", Exclusive: true})
	seal, err := sealer.New("", strings.Repeat("s", 40))
	if err != nil {
		t.Fatal(err)
	}
	providers := agent.NewProviders(agent.ProvidersConfig{Store: r.db, Sealer: seal, Getenv: func(string) string { return "" },
		Resilience: llm.ResilienceOptions{InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}})
	r.chat.svc = agent.NewService(r.db, providers, r.exec, nil, nil, agent.Options{Instance: "test"})
	start(t, r.bus, r.exec)
	r.seed(t)
	return r
}

// seed stores the provider, the model, the agent (with the notes skill)
// and a member.
func (r *rig) seed(t testing.TB) {
	ctx, now := context.Background(), time.Now()
	if _, err := catalog.Seed(ctx, r.db, now); err != nil {
		t.Fatal(err)
	}
	if _, err := r.db.ProviderPut(ctx, store.Provider{Name: "fake", Kind: store.KindOpenAI, BaseURL: r.fake.URL, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.db.ModelPut(ctx, store.Model{Provider: "fake", Name: "fake-1", ContextWindow: 16000, MaxOutput: 1000,
		PriceInput: 2, PriceOutput: 8, Tools: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	ps, _, err := r.db.PersonaList(ctx, store.Page{Limit: 1})
	if err != nil || len(ps) == 0 {
		t.Fatalf("personas: %v", err)
	}
	a, err := r.db.AgentCreate(ctx, store.Agent{Name: "Worker", PersonaID: ps[0].ID, Provider: "fake", Model: "fake-1",
		MaxTokens: 500, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.db.AgentSkillsEnable(ctx, a.ID, []string{"notes"}, now); err != nil {
		t.Fatal(err)
	}
	u, err := r.db.UserCreate(ctx, store.UserCreateParams{Email: fmt.Sprintf("worker-%d@example.com", now.UnixNano()), Name: "Worker",
		Role: gathering.RoleMember, PasswordHash: "x", IsActive: true, At: now})
	if err != nil {
		t.Fatal(err)
	}
	r.agentID, r.userID = a.ID, u.ID
}

// runner starts a runner on the rig; it stops when the test ends.
func (r *rig) runner(t testing.TB, opts background.Options) *background.Runner {
	t.Helper()
	opts.Instance = "test"
	if opts.Lease == 0 {
		opts.Lease = 3 * time.Second
	}
	run := background.New(r.db, r.chat, r.bus, opts)
	start(t, run)
	return run
}

// start starts services and stops them, in reverse order, when the test
// ends.
func start(t testing.TB, services ...interface {
	Start(context.Context) error
	Stop(context.Context) error
}) {
	t.Helper()
	for _, s := range services {
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i := len(services) - 1; i >= 0; i-- {
			if err := services[i].Stop(ctx); err != nil {
				t.Errorf("stop: %v", err)
			}
		}
	})
}

// create starts a task of the rig's agent.
func (r *rig) create(t testing.TB, run *background.Runner, goal string, maxSteps, interval int) store.BackgroundTask {
	t.Helper()
	task, err := run.Create(context.Background(), background.NewTask{AgentID: r.agentID, UserID: r.userID, Goal: goal,
		MaxSteps: maxSteps, CheckpointInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	return task
}

// wait polls a task until ok holds, failing after limit.
func (r *rig) wait(t testing.TB, id string, limit time.Duration, ok func(store.BackgroundTask) bool) store.BackgroundTask {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		task, err := r.db.TaskGet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(task) {
			return task
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s still %s after %s (steps checkpointed: %d)", id, task.Status, limit, task.CheckpointStep)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// final waits for a task to finish.
func (r *rig) final(t testing.TB, id string) store.BackgroundTask {
	t.Helper()
	return r.wait(t, id, 20*time.Second, func(task store.BackgroundTask) bool { return task.Status.Final() })
}

// steps returns a task's steps as "n:status".
func (r *rig) steps(t testing.TB, id string) []string {
	t.Helper()
	steps, err := r.db.TaskSteps(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = fmt.Sprintf("%d:%s", s.Step, s.Status)
	}
	return out
}

// chatRequests counts the chat requests the fake provider received.
func (r *rig) chatRequests() int {
	n := 0
	for _, req := range r.fake.Requests() {
		if strings.HasSuffix(req.Path, "/chat/completions") {
			n++
		}
	}
	return n
}

// waitRequests waits until the fake provider received n chat requests.
func (r *rig) waitRequests(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for r.chatRequests() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d chat requests, want %d", r.chatRequests(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lastPrompt is the last user message of the latest chat request.
func (r *rig) lastPrompt(t testing.TB) string {
	t.Helper()
	reqs := r.fake.Requests()
	if len(reqs) == 0 {
		t.Fatal("no chat request")
	}
	return userText(reqs[len(reqs)-1])
}
