package agenttest_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/agent/agenttest"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
	"github.com/gathering/gathering/internal/tool"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// logged is a service that writes its starts and stops to a log.
type logged struct {
	name    string
	log     *[]string
	stopErr error
}

func (s logged) Start(context.Context) error {
	*s.log = append(*s.log, "start "+s.name)
	return nil
}

func (s logged) Stop(context.Context) error {
	*s.log = append(*s.log, "stop "+s.name)
	return s.stopErr
}

func TestStartStopsInReverseWhenTheTestEnds(t *testing.T) {
	var log []string
	t.Run("rig", func(t *testing.T) {
		agenttest.Start(t, logged{"bus", &log, nil}, logged{"exec", &log, nil}, logged{"runner", &log, nil})
		if want := []string{"start bus", "start exec", "start runner"}; !slices.Equal(log, want) {
			t.Fatalf("while the test runs: %v, want %v", log, want)
		}
	})
	want := []string{"start bus", "start exec", "start runner", "stop runner", "stop exec", "stop bus"}
	if !slices.Equal(log, want) {
		t.Fatalf("after the test: %v, want %v", log, want)
	}
}

func TestSeededAgentAnswersThroughTheFake(t *testing.T) {
	t.Parallel()
	db, fake := storetest.SQLite(t), openaitest.New(t)
	bus := event.NewBus(event.Config{Instance: "test"})
	exec := tool.NewExecutor(tool.NewRegistry(), db, bus, tool.ExecutorOptions{Instance: "test", Exclusive: true})
	agenttest.Start(t, bus, exec)
	agenttest.Seed(t, db, fake.URL, func(m *store.Model) { m.ContextWindow = 64000 })
	id := agenttest.Agent(t, db, store.Agent{Name: "Ada", CanReview: true, Competencies: []string{"go"}}, "calc")
	user := agenttest.User(t, db, "Grace", gathering.RoleMember)
	wire := &countingTransport{}
	svc := agenttest.NewService(t, db, exec, &http.Client{Transport: wire})

	a, err := db.AgentGet(t.Context(), id)
	if err != nil || a.Name != "Ada" || a.Provider != "fake" || a.Model != "fake-1" || a.MaxTokens != 500 || !a.CanReview || a.PersonaID == 0 {
		t.Fatalf("agent: %+v, %v", a, err)
	}
	if skills, err := db.AgentSkills(t.Context(), id); err != nil || !slices.Equal(skills, []string{"calc"}) {
		t.Fatalf("skills: %v, %v", skills, err)
	}
	if m, err := db.ModelFind(t.Context(), "fake", "fake-1"); err != nil || m.ContextWindow != 64000 || m.MaxOutput != 1000 || !m.Tools {
		t.Fatalf("model: %+v, %v", m, err)
	}
	if u, err := db.UserGetByID(t.Context(), user); err != nil || u.Name != "Grace" || u.Role != gathering.RoleMember || !u.IsActive {
		t.Fatalf("user: %+v, %v", u, err)
	}
	if other := agenttest.User(t, db, "Grace", gathering.RoleViewer); other == user {
		t.Fatal("a second user of the same name got the same id")
	}

	fake.Push(openaitest.Reply{Status: http.StatusServiceUnavailable},
		openaitest.Reply{Content: "Postgres.", Usage: llm.Usage{InputTokens: 300, OutputTokens: 60}})
	res, err := svc.Chat(t.Context(), agent.ChatRequest{AgentID: id, UserID: user, Message: "Which database?"})
	if err != nil || res.Content != "Postgres." || math.Abs(res.Cost-(300*2+60*8)/1e6) > 1e-12 {
		t.Fatalf("chat: %+v, %v", res, err)
	}
	agenttest.AwaitChats(t, fake, 2, time.Second)
	if chats := agenttest.Chats(fake); len(chats) != 2 || chats[1].Body["model"] != "fake-1" {
		t.Fatalf("chat requests: %+v", chats)
	}
	if n := wire.calls.Load(); n != 2 {
		t.Fatalf("%d calls through the given client, want 2 (the failure retried)", n)
	}
}

// countingTransport counts the requests it carries.
type countingTransport struct{ calls atomic.Int32 }

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.calls.Add(1)
	return http.DefaultTransport.RoundTrip(req)
}

func TestEventually(t *testing.T) {
	t.Parallel()
	calls := 0
	if !agenttest.Eventually(10*time.Second, func() bool { calls++; return calls == 3 }) || calls != 3 {
		t.Fatalf("a condition that holds on the third check: %d checks", calls)
	}
	limit := 50 * time.Millisecond
	began := time.Now()
	if agenttest.Eventually(limit, func() bool { return false }) {
		t.Fatal("a condition that never holds held")
	}
	if took := time.Since(began); took < limit {
		t.Fatalf("gave up after %s, before the limit of %s", took, limit)
	}
}

func TestStopFailureFailsTheTest(t *testing.T) {
	// The failure is recorded by a stand-in TB rather than failing this
	// test, which then checks it was reported.
	rec := &recordingTB{TB: t}
	var log []string
	func() {
		defer rec.cleanup()
		agenttest.Start(rec, logged{"a", &log, errors.New("stuck")})
	}()
	if !rec.failed {
		t.Fatal("a service that failed to stop did not fail the test")
	}
}

// recordingTB runs cleanups on demand and records failures instead of
// reporting them.
type recordingTB struct {
	testing.TB
	cleanups []func()
	failed   bool
}

func (r *recordingTB) Helper()               {}
func (r *recordingTB) Cleanup(f func())      { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Errorf(string, ...any) { r.failed = true }
func (r *recordingTB) cleanup() {
	for _, f := range slices.Backward(r.cleanups) {
		f()
	}
}
