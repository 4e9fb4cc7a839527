package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/builtin"
	"github.com/gathering/gathering/internal/catalog"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/anthropic/anthropictest"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/sealer"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
	"github.com/gathering/gathering/internal/tool"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// world is a store seeded with the catalog, a tool executor with the
// built-in calc tool, and an agent service.
type world struct {
	st        store.Store
	svc       *agent.Service
	providers *agent.Providers
	exec      *tool.Executor
	sealer    *sealer.Sealer
	env       map[string]string
	agentID   int64
}

func newWorld(t testing.TB, opts agent.Options) *world {
	t.Helper()
	st := storetest.SQLite(t)
	if _, err := catalog.Seed(context.Background(), st, time.Now()); err != nil {
		t.Fatal(err)
	}
	reg := tool.NewRegistry()
	for _, tl := range builtin.Tools(builtin.Options{}) {
		if err := reg.Register(tl); err != nil {
			t.Fatal(err)
		}
	}
	exec := tool.NewExecutor(reg, st, nil, tool.ExecutorOptions{})
	if err := exec.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Stop(context.Background()) })
	seal, err := sealer.New("", strings.Repeat("s", 40))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{st: st, sealer: seal, env: map[string]string{}, exec: exec}
	providers := agent.NewProviders(agent.ProvidersConfig{Store: st, Sealer: seal, Getenv: func(k string) string { return w.env[k] },
		Resilience: llm.ResilienceOptions{InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}})
	w.providers = providers
	w.svc = agent.NewService(st, providers, exec, nil, nil, opts)
	return w
}

// fakeProvider registers a provider at url with a priced model, and an
// agent on it with the calc skill.
func (w *world) fakeProvider(t testing.TB, kind store.ProviderKind, url string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	if _, err := w.st.ProviderPut(ctx, store.Provider{Name: "fake", Kind: kind, BaseURL: url, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.st.ModelPut(ctx, store.Model{Provider: "fake", Name: "fake-1", ContextWindow: 8000, MaxOutput: 1000,
		PriceInput: 2, PriceOutput: 8, PriceCached: 0.5, Tools: true, Streaming: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	w.agent(t, "fake", "fake-1")
	if err := w.st.AgentSkillsEnable(ctx, w.agentID, []string{"calc"}, now); err != nil {
		t.Fatal(err)
	}
}

func (w *world) agent(t testing.TB, provider, model string) {
	t.Helper()
	ps, _, err := w.st.PersonaList(context.Background(), store.Page{Limit: 1})
	if err != nil || len(ps) == 0 {
		t.Fatalf("personas: %v", err)
	}
	now := time.Now()
	a, err := w.st.AgentCreate(context.Background(), store.Agent{Name: "Ada " + provider, PersonaID: ps[0].ID, Provider: provider, Model: model, MaxTokens: 500, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	w.agentID = a.ID
}

func (w *world) chat(t *testing.T, msg, session string, tools bool) agent.ChatResult {
	t.Helper()
	res, err := w.svc.Chat(t.Context(), agent.ChatRequest{AgentID: w.agentID, UserID: 1, Message: msg, SessionID: session, AllowTools: tools})
	if err != nil {
		t.Fatalf("chat %q: %v", msg, err)
	}
	return res
}

func TestChatPersistsHistoryAndUsage(t *testing.T) {
	w := newWorld(t, agent.Options{})
	fake := openaitest.New(t)
	w.fakeProvider(t, store.KindOpenAI, fake.URL)
	fake.Push(openaitest.Reply{Content: "Hello, Sam.", Usage: llm.Usage{InputTokens: 1000, OutputTokens: 100, CachedTokens: 400}},
		openaitest.Reply{Content: "You are Sam.", Usage: llm.Usage{InputTokens: 1200, OutputTokens: 10}})
	first := w.chat(t, "I am Sam.", "", false)
	// (600 × 2 + 400 × 0.5 + 100 × 8) / 1e6 dollars.
	if first.Content != "Hello, Sam." || first.SessionID == "" || first.Usage.CachedTokens != 400 || !near(first.Cost, 0.0022) {
		t.Fatalf("first turn: %+v", first)
	}
	second := w.chat(t, "Who am I?", first.SessionID, false)
	if second.Content != "You are Sam." || second.SessionID != first.SessionID {
		t.Fatalf("second turn: %+v", second)
	}
	body := fake.Requests()[1].Body
	msgs := body["messages"].([]any)
	if len(msgs) != 4 || !strings.Contains(msgs[0].(map[string]any)["content"].(string), "You are Ada fake") {
		t.Fatalf("the second call did not carry the persona and the history: %v", msgs)
	}
	history, total, err := w.st.MessageList(t.Context(), w.agentID, first.SessionID, store.Page{Limit: 10})
	if err != nil || total != 4 || history[3].Content != "You are Sam." {
		t.Fatalf("history: %d %v", total, err)
	}
	totals, err := w.st.UsageTotals(t.Context(), store.UsageByAgent, time.Time{}, time.Time{})
	if err != nil || len(totals) != 1 || totals[0].Calls != 2 || totals[0].InputTokens != 2200 || !near(totals[0].Cost, 0.0022+0.00248) {
		t.Fatalf("usage: %+v %v", totals, err)
	}
}

func near(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 }

// TestToolLoopCorrectsInvalidArgument: the model's first call has invalid
// arguments; the validation errors go back to it as a tool error, it
// corrects the call, the tool runs through the registry, and it answers.
func TestToolLoopCorrectsInvalidArgument(t *testing.T) {
	w := newWorld(t, agent.Options{})
	fake := openaitest.New(t)
	w.fakeProvider(t, store.KindOpenAI, fake.URL)
	fake.Push(
		openaitest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "calc__eval", Arguments: json.RawMessage(`{"expr":"2+3"}`)}}},
		openaitest.Reply{ToolCalls: []llm.ToolCall{{ID: "c2", Name: "calc__eval", Arguments: json.RawMessage(`{"expression":"2+3"}`)}}},
		openaitest.Reply{Content: "2+3 = 5"},
	)
	res := w.chat(t, "What is 2+3?", "", true)
	if res.Content != "2+3 = 5" || len(res.ToolResults) != 2 || res.ToolResults[0].Status != "rejected" || res.ToolResults[1].Status != string(store.ToolSucceeded) {
		t.Fatalf("turn: %+v", res)
	}
	reqs := fake.Requests()
	if tools := reqs[0].Body["tools"].([]any); len(tools) != 1 {
		t.Fatalf("offered tools: %v", tools)
	}
	msgs := reqs[1].Body["messages"].([]any)
	toolMsg := msgs[len(msgs)-1].(map[string]any)
	if toolMsg["role"] != "tool" || toolMsg["tool_call_id"] != "c1" || !strings.Contains(toolMsg["content"].(string), "/expression") {
		t.Fatalf("the invalid call's result: %v", toolMsg)
	}
	last := reqs[2].Body["messages"].([]any)
	if out := last[len(last)-1].(map[string]any)["content"].(string); !strings.Contains(out, `"result":5`) {
		t.Fatalf("the corrected call's result: %s", out)
	}
}

func TestMaxRoundsAndRepeatGuard(t *testing.T) {
	w := newWorld(t, agent.Options{MaxRounds: 3})
	fake := openaitest.New(t)
	w.fakeProvider(t, store.KindOpenAI, fake.URL)
	call := func(id string) openaitest.Reply {
		return openaitest.Reply{Content: "thinking", ToolCalls: []llm.ToolCall{{ID: id, Name: "calc__eval", Arguments: json.RawMessage(`{"expression":"1+1"}`)}}}
	}
	fake.Push(call("c1"), call("c2"), call("c3"))
	res := w.chat(t, "Loop forever.", "", true)
	if len(fake.Requests()) != 3 || len(res.ToolResults) != 3 {
		t.Fatalf("%d model calls, results %+v", len(fake.Requests()), res.ToolResults)
	}
	if res.ToolResults[0].Status != string(store.ToolSucceeded) || !strings.Contains(res.ToolResults[1].Error, "identical call") || !strings.Contains(res.ToolResults[2].Error, "limit") {
		t.Fatalf("results: %+v", res.ToolResults)
	}
	runs, total, _ := w.st.ToolExecutionList(t.Context(), store.ToolExecutionFilter{})
	if total != 1 || runs[0].AgentID != w.agentID {
		t.Fatalf("the tool ran %d times", total)
	}
	// The next turn's history holds a result for every call, so the
	// provider accepts it.
	fake.Push(openaitest.Reply{Content: "done"})
	w.chat(t, "Stop.", res.SessionID, true)
}

func TestNoKeyNoMock(t *testing.T) {
	w := newWorld(t, agent.Options{})
	w.agent(t, "openai", "gpt-4o-mini")
	_, err := w.svc.Chat(t.Context(), agent.ChatRequest{AgentID: w.agentID, UserID: 1, Message: "Hi"})
	if gathering.ErrorCode(err) != gathering.EUNAVAILABLE || !strings.Contains(err.Error(), "OPENAI_API_KEY") || !strings.Contains(err.Error(), "/settings/providers/openai") {
		t.Fatalf("chat without a key: %v", err)
	}
}

func TestStoredKeyIsUsedAndStreamingMatchesPlain(t *testing.T) {
	w := newWorld(t, agent.Options{})
	fake := openaitest.New(t)
	fake.RequireKey("sk-stored-key")
	w.fakeProvider(t, store.KindOpenAI, fake.URL)
	now := time.Now()
	if err := w.st.CredentialPut(t.Context(), store.Credential{Provider: "fake", Sealed: w.sealer.Seal([]byte("sk-stored-key"), "fake"), Hint: "-key", UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	reply := openaitest.Reply{Content: "Streams and plain answers agree.", Usage: llm.Usage{InputTokens: 50, OutputTokens: 7, CachedTokens: 10}, Chunks: 5}
	fake.Push(reply, reply)
	plain := w.chat(t, "Say it.", "", false)
	var tokens strings.Builder
	var kinds []string
	streamed, err := w.svc.Chat(t.Context(), agent.ChatRequest{AgentID: w.agentID, UserID: 1, Message: "Say it.", Emit: func(f agent.Frame) error {
		kinds = append(kinds, f.Type)
		if f.Type == "token" {
			tokens.WriteString(f.Content)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if streamed.Content != plain.Content || tokens.String() != plain.Content || streamed.Usage != plain.Usage || !near(streamed.Cost, plain.Cost) {
		t.Fatalf("plain %+v, streamed %+v, tokens %q", plain, streamed, tokens.String())
	}
	if kinds[0] != "start" || kinds[len(kinds)-1] != "done" || len(kinds) < 7 {
		t.Fatalf("frames %v", kinds)
	}
}

func TestAnthropicToolRound(t *testing.T) {
	w := newWorld(t, agent.Options{})
	fake := anthropictest.New(t)
	w.fakeProvider(t, store.KindAnthropic, fake.URL())
	if err := w.st.CredentialPut(t.Context(), store.Credential{Provider: "fake", Sealed: w.sealer.Seal([]byte("sk-ant-test"), "fake"), Hint: "test", UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	fake.RequireKey("sk-ant-test")
	fake.Push(anthropictest.Reply{ToolCalls: []llm.ToolCall{{ID: "tu1", Name: "calc__eval", Arguments: json.RawMessage(`{"expression":"6*7"}`)}}},
		anthropictest.Reply{Content: "42"})
	if res := w.chat(t, "Six times seven?", "", true); res.Content != "42" || res.ToolResults[0].Status != string(store.ToolSucceeded) {
		t.Fatalf("turn: %+v", res)
	}
}

// TestSessionSerialised: a second chat of the same session waits for the
// first; when the wait is too long it fails rather than answer anything
// made up.
func TestSessionSerialised(t *testing.T) {
	w := newWorld(t, agent.Options{SessionWait: 200 * time.Millisecond})
	fake := openaitest.New(t)
	w.fakeProvider(t, store.KindOpenAI, fake.URL)
	fake.Push(openaitest.Reply{Content: "first"})
	session := w.chat(t, "Open.", "", false).SessionID
	fake.Push(openaitest.Reply{Content: "slow", Stall: time.Second}, openaitest.Reply{Content: "after"})
	var wg sync.WaitGroup
	wg.Go(func() { w.chat(t, "Slow one.", session, false) })
	time.Sleep(100 * time.Millisecond)
	_, err := w.svc.Chat(t.Context(), agent.ChatRequest{AgentID: w.agentID, UserID: 1, Message: "Impatient.", SessionID: session})
	if gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Fatalf("second chat during the first: %v", err)
	}
	wg.Wait()
	if res := w.chat(t, "Now.", session, false); res.Content != "after" {
		t.Fatalf("after the first ended: %+v", res)
	}
	if _, err := w.svc.Chat(t.Context(), agent.ChatRequest{AgentID: w.agentID, UserID: 2, Message: "Not mine.", SessionID: session}); gathering.ErrorCode(err) != gathering.ENOTFOUND {
		t.Fatalf("another user's session: %v", err)
	}
}

// TestBusyWhileAnyTurnRuns: the agent is busy while one of its turns runs
// and idle once the last one ends, even when turns overlap.
func TestBusyWhileAnyTurnRuns(t *testing.T) {
	w := newWorld(t, agent.Options{})
	fake := openaitest.New(t)
	w.fakeProvider(t, store.KindOpenAI, fake.URL)
	fake.Push(openaitest.Reply{Content: "short", Stall: 100 * time.Millisecond}, openaitest.Reply{Content: "long", Stall: 600 * time.Millisecond})
	status := func() store.AgentStatus {
		a, err := w.st.AgentGet(context.Background(), w.agentID)
		if err != nil {
			t.Fatal(err)
		}
		return a.Status
	}
	var wg sync.WaitGroup
	wg.Go(func() { w.chat(t, "one", "", false) })
	time.Sleep(20 * time.Millisecond)
	wg.Go(func() { w.chat(t, "two", "", false) })
	time.Sleep(350 * time.Millisecond) // the first turn has ended, the second runs
	if got := status(); got != store.AgentBusy {
		t.Fatalf("with one turn still running: %s", got)
	}
	wg.Wait()
	if got := status(); got != store.AgentIdle {
		t.Fatalf("after both turns: %s", got)
	}
}

// TestCostFromSeededPrices prices a turn of a built-in model at the
// catalog's seeded rates, with the key taken from the provider's variable.
func TestCostFromSeededPrices(t *testing.T) {
	w := newWorld(t, agent.Options{})
	fake := openaitest.New(t)
	fake.RequireKey("sk-from-env")
	w.env["OPENAI_API_KEY"] = "sk-from-env"
	p, err := w.st.ProviderGet(t.Context(), "openai")
	if err != nil {
		t.Fatal(err)
	}
	p.BaseURL = fake.URL
	if _, err := w.st.ProviderPut(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	w.agent(t, "openai", "mini")
	fake.Push(openaitest.Reply{Content: "Priced.", Usage: llm.Usage{InputTokens: 10_000, OutputTokens: 1_000, CachedTokens: 4_000}})
	res := w.chat(t, "How much?", "", false)
	// gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per million.
	if want := (6_000*0.15 + 4_000*0.075 + 1_000*0.6) / 1e6; !near(res.Cost, want) || res.Model != "gpt-4o-mini" {
		t.Fatalf("cost %v of %s, want %v", res.Cost, res.Model, want)
	}
}

// TestSessionSerialisedAcrossInstances: two services sharing one database
// (two instances) never run two turns of one session at once; the second
// waits for the first instance's lease and fails when the wait is too long.
func TestSessionSerialisedAcrossInstances(t *testing.T) {
	w := newWorld(t, agent.Options{Instance: "a", SessionWait: 300 * time.Millisecond})
	fake := openaitest.New(t)
	w.fakeProvider(t, store.KindOpenAI, fake.URL)
	other := agent.NewService(w.st, w.providers, w.exec, nil, nil, agent.Options{Instance: "b", SessionWait: 300 * time.Millisecond})
	fake.Push(openaitest.Reply{Content: "first"})
	session := w.chat(t, "Open.", "", false).SessionID
	fake.Push(openaitest.Reply{Content: "slow", Stall: 800 * time.Millisecond}, openaitest.Reply{Content: "after"})
	var wg sync.WaitGroup
	wg.Go(func() { w.chat(t, "Slow one.", session, false) })
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	_, err := other.Chat(t.Context(), agent.ChatRequest{AgentID: w.agentID, UserID: 1, Message: "From b.", SessionID: session})
	if gathering.ErrorCode(err) != gathering.ECONFLICT || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("instance b during a's turn: %v after %s", err, time.Since(start))
	}
	wg.Wait()
	res, err := other.Chat(t.Context(), agent.ChatRequest{AgentID: w.agentID, UserID: 1, Message: "Now from b.", SessionID: session})
	if err != nil || res.Content != "after" {
		t.Fatalf("instance b after a's turn: %+v, %v", res, err)
	}
}

// TestNamedLeaseOwnerTakesItsSessionAtOnce: a dead process's lease held
// under a name (a background task's) blocks other owners until it ends, but
// not a turn under the same name on another instance.
func TestNamedLeaseOwnerTakesItsSessionAtOnce(t *testing.T) {
	w := newWorld(t, agent.Options{Instance: "a", SessionWait: 300 * time.Millisecond})
	fake := openaitest.New(t)
	w.fakeProvider(t, store.KindOpenAI, fake.URL)
	fake.Push(openaitest.Reply{Content: "first"})
	session := w.chat(t, "Open.", "", false).SessionID
	now := time.Now()
	if ok, err := w.st.SessionAcquire(t.Context(), session, "background_task:7", now, now.Add(time.Hour)); !ok || err != nil {
		t.Fatalf("acquire: %v, %v", ok, err)
	}
	_, err := w.svc.Chat(t.Context(), agent.ChatRequest{AgentID: w.agentID, UserID: 1, Message: "Blocked.", SessionID: session})
	if gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Fatalf("another owner: %v", err)
	}
	other := agent.NewService(w.st, w.providers, w.exec, nil, nil, agent.Options{Instance: "b", SessionWait: 300 * time.Millisecond})
	fake.Push(openaitest.Reply{Content: "taken over"})
	res, err := other.Chat(t.Context(), agent.ChatRequest{AgentID: w.agentID, UserID: 1, Message: "Go on.", SessionID: session, LeaseOwner: "background_task:7"})
	if err != nil || res.Content != "taken over" {
		t.Fatalf("the same owner on instance b: %+v, %v", res, err)
	}
}

// TestTurnTimeout: a turn that outlasts its limit fails with ETIMEOUT and
// the user's message is kept.
func TestTurnTimeout(t *testing.T) {
	w := newWorld(t, agent.Options{TurnTimeout: 300 * time.Millisecond})
	fake := openaitest.New(t)
	w.fakeProvider(t, store.KindOpenAI, fake.URL)
	fake.Push(openaitest.Reply{Content: "too late", Stall: 3 * time.Second})
	start := time.Now()
	res, err := w.svc.Chat(t.Context(), agent.ChatRequest{AgentID: w.agentID, UserID: 1, Message: "Hurry."})
	if gathering.ErrorCode(err) != gathering.ETIMEOUT || time.Since(start) > 2*time.Second {
		t.Fatalf("after %s: %v", time.Since(start), err)
	}
	msgs, _, err := w.st.MessageList(t.Context(), w.agentID, res.SessionID, store.Page{})
	if err != nil || len(msgs) != 1 || msgs[0].Content != "Hurry." {
		t.Fatalf("kept: %+v, %v", msgs, err)
	}
}

// TestProjectContext: an agent linked to a project is told its name, id,
// description, latest activity and the files it touched there.
func TestProjectContext(t *testing.T) {
	w := newWorld(t, agent.Options{})
	fake := openaitest.New(t)
	w.fakeProvider(t, store.KindOpenAI, fake.URL)
	ctx, now := t.Context(), time.Now()
	p, err := w.st.ProjectCreate(ctx, store.Project{Name: "Atlas", Description: "Maps of the world.", Status: store.ProjectActive,
		Settings: json.RawMessage(`{}`), CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.st.ProjectAgentLink(ctx, p.ID, w.agentID, now); err != nil {
		t.Fatal(err)
	}
	for _, a := range []store.Activity{
		{Kind: store.ActivityFileEdited, Summary: "Wrote maps/eu.json", Path: "maps/eu.json", AgentID: w.agentID},
		{Kind: store.ActivityTestRun, Summary: "go test passed", UserID: 1},
	} {
		a.ProjectID, a.At = p.ID, now
		if _, err := w.st.ActivityAdd(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	fake.Push(openaitest.Reply{Content: "On it."})
	w.chat(t, "What next?", "", false)
	system := fmt.Sprint(fake.Requests()[0].Body["messages"])
	for _, want := range []string{"Atlas (project_id " + strconv.FormatInt(p.ID, 10) + "): Maps of the world.", "go test passed",
		"Wrote maps/eu.json", "Files you touched lately: maps/eu.json"} {
		if !strings.Contains(system, want) {
			t.Errorf("the context lacks %q: %s", want, system)
		}
	}
}
