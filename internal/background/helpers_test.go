package background_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/agent/agenttest"
	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
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
	r.chat.svc = agenttest.NewService(t, r.db, r.exec, nil)
	agenttest.Start(t, r.bus, r.exec)
	agenttest.Seed(t, r.db, r.fake.URL)
	r.agentID = agenttest.Agent(t, r.db, store.Agent{Name: "Worker"}, "notes")
	r.userID = agenttest.User(t, r.db, "Worker", gathering.RoleMember)
	return r
}

// runner starts a runner on the rig; it stops when the test ends.
func (r *rig) runner(t testing.TB, opts background.Options) *background.Runner {
	t.Helper()
	opts.Instance = "test"
	if opts.Lease == 0 {
		opts.Lease = 3 * time.Second
	}
	run := background.New(r.db, r.chat, r.bus, opts)
	agenttest.Start(t, run)
	return run
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
	var task store.BackgroundTask
	held := agenttest.Eventually(limit, func() bool {
		var err error
		if task, err = r.db.TaskGet(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		return ok(task)
	})
	if !held {
		t.Fatalf("task %s still %s after %s (steps checkpointed: %d)", id, task.Status, limit, task.CheckpointStep)
	}
	return task
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
func (r *rig) chatRequests() int { return len(agenttest.Chats(r.fake)) }

// waitRequests waits until the fake provider received n chat requests.
func (r *rig) waitRequests(t testing.TB, n int) {
	t.Helper()
	agenttest.AwaitChats(t, r.fake, n, 20*time.Second)
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
