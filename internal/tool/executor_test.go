package tool_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
	"github.com/gathering/gathering/internal/tool"
)

// sqliteStore and postgresStore open migrated stores of each backend.
var (
	sqliteStore   = storetest.SQLite
	postgresStore = storetest.Postgres
)

// runs counts the runs of the test tools and remembers how they ended.
type runs struct {
	started   atomic.Int32
	cancelled atomic.Int32 // runs that saw their context end
	active    atomic.Int32
	maxActive atomic.Int32
}

// sleepTool sleeps for "ms" milliseconds unless its context ends first.
func sleepTool(name string, r *runs, mod func(*tool.Tool)) tool.Tool {
	t := tool.Tool{
		Name:  name,
		Input: json.RawMessage(`{"type":"object","properties":{"ms":{"type":"integer","minimum":0}},"required":["ms"],"additionalProperties":false}`),
		Run: func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
			r.started.Add(1)
			n := r.active.Add(1)
			defer r.active.Add(-1)
			for m := r.maxActive.Load(); n > m && !r.maxActive.CompareAndSwap(m, n); m = r.maxActive.Load() {
			}
			var p struct{ MS int }
			_ = json.Unmarshal(in, &p)
			tool.ReportProgress(ctx, tool.Progress{Fraction: 0, Message: "sleeping"})
			select {
			case <-time.After(time.Duration(p.MS) * time.Millisecond):
				return json.RawMessage(`{"slept":true}`), nil
			case <-ctx.Done():
				r.cancelled.Add(1)
				return nil, ctx.Err()
			}
		},
	}
	if mod != nil {
		mod(&t)
	}
	return t
}

type fixture struct {
	st   store.Store
	bus  *event.Bus
	reg  *tool.Registry
	x    *tool.Executor
	runs *runs
}

func newFixture(t *testing.T, st store.Store, opts tool.ExecutorOptions, tools ...func(*runs) tool.Tool) *fixture {
	t.Helper()
	bus := event.NewBus(event.Config{})
	startService(t, bus)
	f := &fixture{st: st, bus: bus, reg: tool.NewRegistry(), runs: &runs{}}
	for _, mk := range tools {
		if err := f.reg.Register(mk(f.runs)); err != nil {
			t.Fatal(err)
		}
	}
	f.x = tool.NewExecutor(f.reg, st, bus, opts)
	startService(t, f.x)
	return f
}

type service interface {
	Start(context.Context) error
	Stop(context.Context) error
}

func startService(t *testing.T, s service) {
	t.Helper()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
}

func sleeper(name string, mod func(*tool.Tool)) func(*runs) tool.Tool {
	return func(r *runs) tool.Tool { return sleepTool(name, r, mod) }
}

var member = tool.UserCaller(gathering.RoleMember)

func (f *fixture) execute(t *testing.T, name, input string, background bool) store.ToolExecution {
	t.Helper()
	e, err := f.x.Execute(t.Context(), tool.Request{Tool: name, Input: json.RawMessage(input), Caller: member, UserID: 7, Background: background})
	if err != nil {
		t.Fatalf("Execute %s: %v", name, err)
	}
	return e
}

// waitFinal polls the store until the execution is final.
func (f *fixture) waitFinal(t *testing.T, id string, within time.Duration) store.ToolExecution {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		e, err := f.st.ToolExecutionGet(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if e.Status.Final() {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s still %s after %s", id, e.Status, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSyncCallIsRecorded(t *testing.T) {
	f := newFixture(t, sqliteStore(t), tool.ExecutorOptions{}, sleeper("test.sleep", nil))
	sub, err := f.bus.Subscribe(event.SubscribeOptions{Filter: event.Filter{Types: []string{"tool.execution.*"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	e := f.execute(t, "test.sleep", `{"ms":1}`, false)
	if e.Status != store.ToolSucceeded || string(e.Output) != `{"slept":true}` || e.Background {
		t.Fatalf("execution = %+v", e)
	}
	got, err := f.st.ToolExecutionGet(t.Context(), e.ID)
	if err != nil || got.Status != store.ToolSucceeded || got.UserID != 7 || got.StartedAt.IsZero() || got.FinishedAt.IsZero() {
		t.Fatalf("recorded = %+v, %v", got, err)
	}
	ev := nextEvent(t, sub, "tool.execution.succeeded")
	if !slices.Contains(ev.Topics, "user:7") || !slices.Contains(ev.Topics, "tool_execution:"+e.ID) {
		t.Fatalf("topics = %v", ev.Topics)
	}
}

func nextEvent(t *testing.T, sub *event.Subscription, typ string) event.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case fr := <-sub.Frames():
			evs := fr.Batch
			if fr.Kind == event.KindEvent {
				evs = []event.Event{fr.Event}
			}
			for _, e := range evs {
				if e.Type == typ {
					return e
				}
			}
		case <-timeout:
			t.Fatalf("no %s event", typ)
		}
	}
}

func TestRefusedCallsAreNotRecordedAndNeverRun(t *testing.T) {
	f := newFixture(t, sqliteStore(t), tool.ExecutorOptions{}, sleeper("test.sleep", nil))
	for _, in := range []string{`{}`, `{"ms":"x"}`, `{"ms":1,"extra":true}`, `{"ms":-1}`} {
		_, err := f.x.Execute(t.Context(), tool.Request{Tool: "test.sleep", Input: json.RawMessage(in), Caller: member})
		_, callErr := f.reg.Call(t.Context(), member, "test.sleep", json.RawMessage(in))
		if gathering.ErrorCode(err) != gathering.EINVALID || !slices.Equal(gathering.ErrorFields(err), gathering.ErrorFields(callErr)) {
			t.Errorf("%s: Execute %v, Call %v: want the same EINVALID", in, err, callErr)
		}
	}
	if _, err := f.x.Execute(t.Context(), tool.Request{Tool: "test.sleep", Input: json.RawMessage(`{"ms":1}`), Caller: tool.AgentCaller("other")}); gathering.ErrorCode(err) != gathering.EFORBIDDEN {
		t.Errorf("agent without the skill: %v", err)
	}
	if f.runs.started.Load() != 0 {
		t.Fatalf("the body ran %d times", f.runs.started.Load())
	}
	if _, total, _ := f.st.ToolExecutionList(t.Context(), store.ToolExecutionFilter{}); total != 0 {
		t.Fatalf("%d executions recorded", total)
	}
}

func TestBackgroundCancelWithinOneSecond(t *testing.T) {
	f := newFixture(t, sqliteStore(t), tool.ExecutorOptions{}, sleeper("test.slow", func(t *tool.Tool) { t.Async = true }))
	e := f.execute(t, "test.slow", `{"ms":5000}`, false)
	if !e.Background || e.Status != store.ToolPending {
		t.Fatalf("async call answered %+v", e)
	}
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	got, err := f.x.Cancel(t.Context(), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.ToolCancelled || got.Reason != "cancelled" || time.Since(start) > time.Second {
		t.Fatalf("after %s: %+v", time.Since(start), got)
	}
	if f.runs.cancelled.Load() != 1 {
		t.Fatal("the tool's context was not cancelled")
	}
	if rec := f.waitFinal(t, e.ID, time.Second); rec.Status != store.ToolCancelled {
		t.Fatalf("recorded %s", rec.Status)
	}
	if _, err := f.x.Cancel(t.Context(), e.ID); gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Fatalf("second cancel: %v", err)
	}
}

func TestBackgroundTimeout(t *testing.T) {
	f := newFixture(t, sqliteStore(t), tool.ExecutorOptions{}, sleeper("test.slow", func(t *tool.Tool) { t.Timeout = 200 * time.Millisecond }))
	e := f.execute(t, "test.slow", `{"ms":5000}`, true)
	got := f.waitFinal(t, e.ID, 3*time.Second)
	if got.Status != store.ToolTimedOut || got.ErrorCode != gathering.ETIMEOUT || got.StartedAt.IsZero() {
		t.Fatalf("recorded %+v", got)
	}
	sync, err := f.x.Execute(t.Context(), tool.Request{Tool: "test.slow", Input: json.RawMessage(`{"ms":5000}`), Caller: member})
	if gathering.ErrorCode(err) != gathering.ETIMEOUT || sync.Status != store.ToolTimedOut || sync.ID == "" {
		t.Fatalf("sync call: %+v, %v", sync, err)
	}
}

func TestRestartInterruptsRunningExecutions(t *testing.T) {
	st := sqliteStore(t)
	crashed := tool.NewExecutor(newRegistry(t, sleeper("test.slow", nil)), st, nil, tool.ExecutorOptions{})
	e, err := crashed.Execute(t.Context(), tool.Request{Tool: "test.slow", Input: json.RawMessage(`{"ms":5000}`), Caller: member, Background: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = crashed.Stop(context.Background()) })
	f := newFixture(t, st, tool.ExecutorOptions{Exclusive: true}, sleeper("test.slow", nil))
	got, err := f.st.ToolExecutionGet(t.Context(), e.ID)
	if err != nil || got.Status != store.ToolFailed || got.Reason != "interrupted" {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
}

func TestAbandonedExecutionsInterruptedAfterLease(t *testing.T) {
	st := postgresStore(t)
	// An executor that never starts never beats its heartbeat: as if its
	// process had died.
	dead := tool.NewExecutor(newRegistry(t, sleeper("test.slow", nil)), st, nil, tool.ExecutorOptions{})
	t.Cleanup(func() { _ = dead.Stop(context.Background()) })
	e, err := dead.Execute(t.Context(), tool.Request{Tool: "test.slow", Input: json.RawMessage(`{"ms":5000}`), Caller: member, Background: true})
	if err != nil {
		t.Fatal(err)
	}
	alive := newFixture(t, st, tool.ExecutorOptions{Lease: 300 * time.Millisecond}, sleeper("test.slow", nil))
	own := alive.execute(t, "test.slow", `{"ms":1500}`, true)
	if got := alive.waitFinal(t, e.ID, 3*time.Second); got.Reason != "interrupted" {
		t.Fatalf("abandoned: %+v", got)
	}
	if got := alive.waitFinal(t, own.ID, 5*time.Second); got.Status != store.ToolSucceeded {
		t.Fatalf("a live run past its lease was touched: %+v", got)
	}
}

func newRegistry(t *testing.T, tools ...func(*runs) tool.Tool) *tool.Registry {
	t.Helper()
	reg := tool.NewRegistry()
	for _, mk := range tools {
		if err := reg.Register(mk(&runs{})); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

func dangerous(t *tool.Tool) { t.Dangerous = true }

func TestDangerousConfirmRuns(t *testing.T) {
	f := newFixture(t, sqliteStore(t), tool.ExecutorOptions{}, sleeper("test.rm", dangerous))
	e := f.execute(t, "test.rm", `{"ms":1}`, false)
	if e.Status != store.ToolAwaitingConfirmation || e.ExpiresAt.IsZero() {
		t.Fatalf("dangerous call answered %+v", e)
	}
	if _, err := f.x.Decide(t.Context(), e.ID, tool.UserCaller(gathering.RoleViewer), 3, true); gathering.ErrorCode(err) != gathering.EFORBIDDEN {
		t.Fatalf("a viewer confirmed: %v", err)
	}
	if _, err := f.x.Decide(t.Context(), e.ID, tool.AgentCaller("test"), 0, true); gathering.ErrorCode(err) != gathering.EFORBIDDEN {
		t.Fatalf("an agent confirmed: %v", err)
	}
	got, err := f.x.Decide(t.Context(), e.ID, member, 3, true)
	if err != nil || got.Status == store.ToolAwaitingConfirmation || got.DecidedBy != 3 {
		t.Fatalf("confirm: %+v, %v", got, err)
	}
	if rec := f.waitFinal(t, e.ID, 3*time.Second); rec.Status != store.ToolSucceeded || f.runs.started.Load() != 1 {
		t.Fatalf("recorded %+v, runs %d", rec, f.runs.started.Load())
	}
}

func TestDangerousDenyNeverRuns(t *testing.T) {
	f := newFixture(t, sqliteStore(t), tool.ExecutorOptions{}, sleeper("test.rm", dangerous))
	e := f.execute(t, "test.rm", `{"ms":1}`, false)
	got, err := f.x.Decide(t.Context(), e.ID, member, 3, false)
	if err != nil || got.Status != store.ToolCancelled || got.Reason != "denied" {
		t.Fatalf("deny: %+v, %v", got, err)
	}
	if _, err := f.x.Decide(t.Context(), e.ID, member, 3, true); gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Fatalf("confirm after deny: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	if f.runs.started.Load() != 0 {
		t.Fatal("a denied call ran")
	}
}

func TestDangerousExpiryNeverRuns(t *testing.T) {
	f := newFixture(t, sqliteStore(t), tool.ExecutorOptions{ConfirmTimeout: 200 * time.Millisecond}, sleeper("test.rm", dangerous))
	e := f.execute(t, "test.rm", `{"ms":1}`, false)
	got := f.waitFinal(t, e.ID, 3*time.Second)
	if got.Status != store.ToolTimedOut || got.Reason != "expired" || f.runs.started.Load() != 0 {
		t.Fatalf("expired: %+v, runs %d", got, f.runs.started.Load())
	}
}

func TestConcurrencyLimitPerTool(t *testing.T) {
	f := newFixture(t, sqliteStore(t), tool.ExecutorOptions{}, sleeper("test.one", func(t *tool.Tool) { t.Concurrency = 1 }))
	first := f.execute(t, "test.one", `{"ms":300}`, true)
	for f.runs.started.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	second := f.execute(t, "test.one", `{"ms":1}`, true)
	time.Sleep(100 * time.Millisecond)
	if got, _ := f.x.Get(t.Context(), second.ID); got.Status != store.ToolPending {
		t.Fatalf("second run is %s while the first runs", got.Status)
	}
	f.waitFinal(t, first.ID, 3*time.Second)
	f.waitFinal(t, second.ID, 3*time.Second)
	if f.runs.maxActive.Load() != 1 {
		t.Fatalf("%d runs at once", f.runs.maxActive.Load())
	}
}

func TestShutdownInterruptsWhatDoesNotFinish(t *testing.T) {
	st := sqliteStore(t)
	x := tool.NewExecutor(newRegistry(t, sleeper("test.slow", nil), sleeper("test.rm", dangerous)), st, nil, tool.ExecutorOptions{})
	if err := x.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	exec := func(name string) string {
		e, err := x.Execute(t.Context(), tool.Request{Tool: name, Input: json.RawMessage(`{"ms":5000}`), Caller: member, Background: true})
		if err != nil {
			t.Fatal(err)
		}
		return e.ID
	}
	slow, waiting := exec("test.slow"), exec("test.rm")
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := x.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{slow, waiting} {
		if got, _ := st.ToolExecutionGet(t.Context(), id); got.Status != store.ToolFailed || got.Reason != "interrupted" {
			t.Errorf("after shutdown: %+v", got)
		}
	}
	if _, err := x.Execute(t.Context(), tool.Request{Tool: "test.slow", Input: json.RawMessage(`{"ms":1}`), Caller: member}); gathering.ErrorCode(err) != gathering.EUNAVAILABLE {
		t.Fatalf("call after Stop: %v", err)
	}
}

func TestCancelReachesTheOwningInstance(t *testing.T) {
	st := sqliteStore(t)
	owner := newFixture(t, st, tool.ExecutorOptions{Instance: "a"}, sleeper("test.slow", nil))
	other := tool.NewExecutor(owner.reg, st, owner.bus, tool.ExecutorOptions{Instance: "b"})
	startService(t, other)
	e := owner.execute(t, "test.slow", `{"ms":5000}`, true)
	time.Sleep(50 * time.Millisecond)
	if _, err := other.Cancel(t.Context(), e.ID); err != nil {
		t.Fatal(err)
	}
	if got := owner.waitFinal(t, e.ID, 2*time.Second); got.Status != store.ToolCancelled {
		t.Fatalf("recorded %+v", got)
	}
}

func TestProgressAndSecretsRedacted(t *testing.T) {
	f := newFixture(t, sqliteStore(t), tool.ExecutorOptions{}, func(r *runs) tool.Tool {
		return tool.Tool{
			Name:  "test.login",
			Input: json.RawMessage(`{"type":"object"}`),
			Run: func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
				tool.ReportProgress(ctx, tool.Progress{Fraction: 0.5, Message: "half"})
				return json.RawMessage(`{}`), nil
			},
		}
	})
	sub, err := f.bus.Subscribe(event.SubscribeOptions{Filter: event.Filter{Types: []string{"tool.execution.progress"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	e := f.execute(t, "test.login", `{"user":"ann","password":"hunter2","headers":{"Authorization":"Bearer x","Accept":"a"},"count":5}`, false)
	var in map[string]any
	if err := json.Unmarshal(e.Input, &in); err != nil {
		t.Fatal(err)
	}
	h := in["headers"].(map[string]any)
	if in["password"] != tool.Redacted || h["Authorization"] != tool.Redacted || h["Accept"] != "a" || in["user"] != "ann" || in["count"] != float64(5) {
		t.Fatalf("recorded input %s", e.Input)
	}
	ev := nextEvent(t, sub, "tool.execution.progress")
	var p struct {
		ID       string
		Fraction float64
		Message  string
	}
	if err := json.Unmarshal(ev.Data, &p); err != nil || p.ID != e.ID || p.Fraction != 0.5 || p.Message != "half" {
		t.Fatalf("progress %s", ev.Data)
	}
}

// TestExecuteAndWait waits for a background call's recorded end, and a
// caller that gives up cancels the call.
func TestExecuteAndWait(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sqliteStore(t), tool.ExecutorOptions{}, sleeper("test.sleep", nil))
	req := tool.Request{Tool: "test.sleep", Input: json.RawMessage(`{"ms": 100}`), Caller: member, Background: true}
	e, err := f.x.ExecuteAndWait(t.Context(), req)
	if err != nil || e.Status != store.ToolSucceeded || e.FinishedAt.IsZero() {
		t.Fatalf("waited for %+v, %v", e, err)
	}
	if stored, _ := f.st.ToolExecutionGet(t.Context(), e.ID); stored.Status != store.ToolSucceeded {
		t.Errorf("returned before the end was recorded: %s", stored.Status)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req.Input = json.RawMessage(`{"ms": 5000}`)
	if e, err = f.x.ExecuteAndWait(ctx, req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a caller out of time got %v", err)
	}
	if got := f.waitFinal(t, e.ID, 2*time.Second); got.Status != store.ToolCancelled {
		t.Errorf("the abandoned call ended %s", got.Status)
	}
}
