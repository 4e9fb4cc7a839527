package engine_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/engine"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
	"github.com/gathering/gathering/internal/tool"
)

// fakeClock is fake time: Sleep records the wait and moves the clock on
// at once.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	c.advance(d)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	return nil
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) recorded() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// probe counts and observes the calls of the test tools.
type probe struct {
	mu      sync.Mutex
	calls   map[string]int // by idempotency key
	running atomic.Int32
	peak    atomic.Int32
	failsN  atomic.Int32 // test.flaky fails while this is positive
	broken  atomic.Bool  // test.down fails while set
	started chan string  // test.sleep sends its key when it starts
}

// record counts one call under the context's idempotency key.
func (p *probe) record(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[tool.IdempotencyKey(ctx)]++
}

// count returns how often the tool ran for a key.
func (p *probe) count(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[key]
}

// total returns how many calls were made.
func (p *probe) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		n += c
	}
	return n
}

const anyInput = `{"type": "object"}`

// testTools registers tools whose behavior the tests steer through p:
// test.echo returns its input; test.sleep sleeps input.ms (honouring its
// context) and tracks concurrency; test.flaky fails with EUNAVAILABLE while
// p.failsN is positive; test.down fails with EUNAVAILABLE while p.broken;
// test.invalid always fails with EINVALID.
func testTools(t testing.TB, p *probe) *tool.Registry {
	reg := tool.NewRegistry()
	body := map[string]tool.RunFunc{
		"test.echo": func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
			p.record(ctx)
			return in, nil
		},
		"test.sleep": func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
			p.record(ctx)
			var v struct{ MS int }
			_ = json.Unmarshal(in, &v)
			n := p.running.Add(1)
			defer p.running.Add(-1)
			for old := p.peak.Load(); n > old && !p.peak.CompareAndSwap(old, n); old = p.peak.Load() {
			}
			if p.started != nil {
				p.started <- tool.IdempotencyKey(ctx)
			}
			select {
			case <-time.After(time.Duration(v.MS) * time.Millisecond):
				return json.RawMessage(`{"slept": true}`), nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		},
		"test.flaky": func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
			p.record(ctx)
			if p.failsN.Add(-1) >= 0 {
				return nil, gathering.Errorf(gathering.EUNAVAILABLE, "flaky is down")
			}
			return json.RawMessage(`{"ok": true}`), nil
		},
		"test.down": func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
			p.record(ctx)
			if p.broken.Load() {
				return nil, gathering.Errorf(gathering.EUNAVAILABLE, "down is down")
			}
			return json.RawMessage(`{"ok": true}`), nil
		},
		"test.invalid": func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
			p.record(ctx)
			return nil, gathering.Errorf(gathering.EINVALID, "this input is never right")
		},
	}
	for name, run := range body {
		if err := reg.Register(tool.Tool{Name: name, Description: name, Input: json.RawMessage(anyInput), Run: run}); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

// rig is an engine over a real store, with the test tools.
type rig struct {
	db     store.Store
	bus    *event.Bus
	eng    *engine.Engine
	probe  *probe
	clock  *fakeClock // nil: real time
	userID int64
}

// rigOptions tune a rig.
type rigOptions struct {
	db       store.Store // nil: a fresh SQLite store
	fakeTime bool
	instance string
	opts     engine.Options
	// chat, when set, builds the agent turns the engine runs.
	chat func(db store.Store, exec *tool.Executor) agent.Chatter
}

// newRig starts an engine for a test and stops it at the end.
func newRig(t testing.TB, o rigOptions) *rig {
	t.Helper()
	r := &rig{db: o.db, probe: &probe{calls: map[string]int{}}}
	if r.db == nil {
		r.db = storetest.SQLite(t)
	}
	r.bus = event.NewBus(event.Config{Instance: cmp.Or(o.instance, "test")})
	exec := tool.NewExecutor(testTools(t, r.probe), r.db, r.bus, tool.ExecutorOptions{Instance: r.bus.Instance(), Exclusive: o.db == nil})
	opts := o.opts
	opts.Instance = r.bus.Instance()
	if opts.Poll == 0 {
		opts.Poll = 50 * time.Millisecond
	}
	if o.fakeTime {
		r.clock = newFakeClock()
		opts.Now, opts.Sleep = r.clock.Now, r.clock.Sleep
		if opts.Jitter == nil {
			opts.Jitter = func() float64 { return 0.5 }
		}
	}
	var chat agent.Chatter
	if o.chat != nil {
		chat = o.chat(r.db, exec)
	}
	r.eng = engine.New(r.db, exec, chat, r.bus, opts)
	ctx := context.Background()
	for _, s := range []interface{ Start(context.Context) error }{r.bus, exec, r.eng} {
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, s := range []interface{ Stop(context.Context) error }{r.eng, exec, r.bus} {
			if err := s.Stop(ctx); err != nil {
				t.Errorf("stop: %v", err)
			}
		}
	})
	u, err := r.db.UserCreate(ctx, store.UserCreateParams{
		Email: fmt.Sprintf("runner-%s@example.com", strings.ToLower(event.NewID(time.Now()))), Name: "Runner",
		Role: gathering.RoleMember, PasswordHash: "x", IsActive: true, At: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.userID = u.ID
	return r
}

// pipeline stores an active pipeline from its nodes, edges and settings
// JSON (settings may be "").
func (r *rig) pipeline(t testing.TB, nodes, edges, settings string) store.Pipeline {
	t.Helper()
	if settings == "" {
		settings = "{}"
	}
	now := time.Now()
	p, err := r.db.PipelineCreate(context.Background(), store.Pipeline{
		Name: "p-" + event.NewID(now), Status: store.PipelineActive,
		Nodes: json.RawMessage(nodes), Edges: json.RawMessage(edges), Settings: json.RawMessage(settings),
		CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// submit starts a run of p with trigger.
func (r *rig) submit(t testing.TB, p store.Pipeline, trigger string) store.PipelineRun {
	t.Helper()
	run, err := r.eng.Submit(context.Background(), p.ID, json.RawMessage(trigger), r.userID)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return run
}

// wait polls a run until its status satisfies ok, for at most limit.
func (r *rig) wait(t testing.TB, id string, limit time.Duration, ok func(store.RunStatus) bool) store.PipelineRun {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		run, err := r.db.RunGet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(run.Status) {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s is still %s after %s (error %q)", id, run.Status, limit, run.Error)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// finished waits for a run to finish.
func (r *rig) finished(t testing.TB, id string) store.PipelineRun {
	t.Helper()
	return r.wait(t, id, 20*time.Second, store.RunStatus.Final)
}

// run runs p to its end and returns the run and its latest attempts by
// node.
func (r *rig) run(t testing.TB, p store.Pipeline, trigger string) (store.PipelineRun, map[string]store.NodeRun) {
	t.Helper()
	run := r.finished(t, r.submit(t, p, trigger).ID)
	return run, r.latest(t, run.ID)
}

// latest returns the latest attempt of each node of a run.
func (r *rig) latest(t testing.TB, runID string) map[string]store.NodeRun {
	t.Helper()
	list, err := r.db.NodeRunList(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.NodeRun{}
	for _, n := range list {
		out[n.NodeID] = n
	}
	return out
}

// attempts returns every attempt of one node of a run.
func (r *rig) attempts(t testing.TB, runID, nodeID string) []store.NodeRun {
	t.Helper()
	list, err := r.db.NodeRunList(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.NodeRun
	for _, n := range list {
		if n.NodeID == nodeID {
			out = append(out, n)
		}
	}
	return out
}

// statuses returns the latest status of each node.
func statuses(nodes map[string]store.NodeRun) map[string]store.NodeStatus {
	out := map[string]store.NodeStatus{}
	for id, n := range nodes {
		out[id] = n.Status
	}
	return out
}

// output decodes a node attempt's output.
func output(t testing.TB, n store.NodeRun) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(n.Output, &m); err != nil {
		t.Fatalf("node %s output %s: %v", n.NodeID, n.Output, err)
	}
	return m
}

// itoa64 formats an id.
func itoa64(n int64) string { return fmt.Sprint(n) }
