package engine_test

import (
	"context"
	"encoding/json"
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

// spyChat passes turns to an agent service and reports when each ends.
type spyChat struct {
	svc   *agent.Service
	ended chan error
}

func (s *spyChat) Chat(ctx context.Context, req agent.ChatRequest) (agent.ChatResult, error) {
	res, err := s.svc.Chat(ctx, req)
	s.ended <- err
	return res, err
}

// agentRig is a rig whose engine runs real agent turns against a fake
// OpenAI-compatible provider, with one agent on it.
func agentRig(t *testing.T) (*rig, *openaitest.Server, *spyChat, int64) {
	t.Helper()
	fake := openaitest.New(t)
	spy := &spyChat{ended: make(chan error, 10)}
	r := newRig(t, rigOptions{chat: func(db store.Store, exec *tool.Executor) agent.Chatter {
		seal, err := sealer.New("", strings.Repeat("s", 40))
		if err != nil {
			t.Fatal(err)
		}
		providers := agent.NewProviders(agent.ProvidersConfig{Store: db, Sealer: seal, Getenv: func(string) string { return "" },
			Resilience: llm.ResilienceOptions{InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}})
		spy.svc = agent.NewService(db, providers, exec, nil, nil, agent.Options{})
		return spy
	}})
	ctx, now := context.Background(), time.Now()
	if _, err := catalog.Seed(ctx, r.db, now); err != nil {
		t.Fatal(err)
	}
	if _, err := r.db.ProviderPut(ctx, store.Provider{Name: "fake", Kind: store.KindOpenAI, BaseURL: fake.URL, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.db.ModelPut(ctx, store.Model{Provider: "fake", Name: "fake-1", ContextWindow: 8000, MaxOutput: 1000,
		PriceInput: 2, PriceOutput: 8, Tools: true, Streaming: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	ps, _, err := r.db.PersonaList(ctx, store.Page{Limit: 1})
	if err != nil || len(ps) == 0 {
		t.Fatalf("personas: %v", err)
	}
	a, err := r.db.AgentCreate(ctx, store.Agent{Name: "Writer", PersonaID: ps[0].ID, Provider: "fake", Model: "fake-1",
		MaxTokens: 500, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	return r, fake, spy, a.ID
}

func agentNode(agentID int64) string {
	return `[{"id": "start", "type": "trigger"},
		{"id": "write", "type": "agent", "config": {"agent_id": ` + strconv.FormatInt(agentID, 10) + `, "task": "Summarize {{ trigger.topic }}."}}]`
}

func TestAgentNodeRunsATurnAndRecordsUsage(t *testing.T) {
	t.Parallel()
	r, fake, _, agentID := agentRig(t)
	fake.Push(openaitest.Reply{Content: "Rust is safe.", Usage: llm.Usage{InputTokens: 1000, OutputTokens: 100}})
	p := r.pipeline(t, agentNode(agentID), `[{"id": "e1", "from": "start", "to": "write"}]`, "")
	run, nodes := r.run(t, p, `{"topic": "rust"}`)
	if run.Status != store.RunCompleted {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	w := nodes["write"]
	if out := output(t, w); out["content"] != "Rust is safe." || out["model"] != "fake-1" {
		t.Errorf("output %v", out)
	}
	if w.InputTokens != 1000 || w.OutputTokens != 100 || w.Cost <= 0 {
		t.Errorf("usage %d/%d, cost %v", w.InputTokens, w.OutputTokens, w.Cost)
	}
	var in struct{ Task string }
	_ = json.Unmarshal(w.Input, &in)
	body, _ := json.Marshal(fake.Requests()[0].Body)
	if in.Task != "Summarize rust." || !strings.Contains(string(body), "Summarize rust.") {
		t.Errorf("task %q; request %s", in.Task, body)
	}
}

func TestCancelAbortsAnInFlightProviderCall(t *testing.T) {
	t.Parallel()
	r, fake, spy, agentID := agentRig(t)
	fake.Push(openaitest.Reply{Content: "too late", Stall: time.Minute})
	p := r.pipeline(t, agentNode(agentID), `[{"id": "e1", "from": "start", "to": "write"}]`, "")
	run := r.submit(t, p, `{"topic": "go"}`)
	for deadline := time.Now().Add(10 * time.Second); len(fake.Requests()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the provider was never called")
		}
	}
	start := time.Now()
	if _, err := r.eng.Cancel(context.Background(), run.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-spy.ended:
		if err == nil || time.Since(start) > time.Second {
			t.Errorf("the turn ended after %s with %v", time.Since(start), err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the provider call was not aborted")
	}
	if got := r.finished(t, run.ID); got.Status != store.RunCancelled || r.latest(t, run.ID)["write"].Status != store.NodeCancelled {
		t.Errorf("run %s, node %s", got.Status, r.latest(t, run.ID)["write"].Status)
	}
}
