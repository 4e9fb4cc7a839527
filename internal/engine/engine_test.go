package engine_test

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/engine"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// sleepNode is a tool node that sleeps ms milliseconds.
func sleepNode(id string, ms int) string {
	return `{"id": "` + id + `", "type": "tool", "config": {"tool": "test.sleep", "input": {"ms": ` + strconv.Itoa(ms) + `}}}`
}

func TestDataFlowsAlongEdges(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	p := r.pipeline(t, `[
		{"id": "start", "type": "trigger"},
		{"id": "a", "type": "tool", "config": {"tool": "test.echo", "input": {"v": "{{ trigger.x }}", "n": 1}}},
		{"id": "b", "type": "tool", "config": {"tool": "test.echo", "input": {"w": "got {{ nodes.a.output.v }}"}}},
		{"id": "j", "type": "join"}
	]`, `[
		{"id": "e1", "from": "start", "to": "a"},
		{"id": "e2", "from": "a", "to": "b"},
		{"id": "e3", "from": "b", "to": "j"},
		{"id": "e4", "from": "a", "to": "j"}
	]`, "")
	run, nodes := r.run(t, p, `{"x": "hello"}`)
	if run.Status != store.RunCompleted {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	if got := output(t, nodes["a"]); !reflect.DeepEqual(got, map[string]any{"v": "hello", "n": 1.0}) {
		t.Errorf("a output %v", got)
	}
	if got := output(t, nodes["b"]); got["w"] != "got hello" {
		t.Errorf("b output %v", got)
	}
	j := output(t, nodes["j"])
	if _, ok := j["a"]; !ok || j["b"] == nil {
		t.Errorf("the join sees %v, want the outputs of a and b", j)
	}
	if string(nodes["start"].Output) != `{"x": "hello"}` {
		t.Errorf("the trigger's output is %s", nodes["start"].Output)
	}
	if r.probe.count(run.ID+":a") != 1 || r.probe.count(run.ID+":b") != 1 {
		t.Errorf("calls %v", r.probe.calls)
	}
}

func TestIndependentBranchesRunInParallel(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	const ms = 500
	p := r.pipeline(t, `[`+sleepNode("a", ms)+`,`+sleepNode("b", ms)+`, {"id": "j", "type": "join"}]`,
		`[{"id": "e1", "from": "a", "to": "j"}, {"id": "e2", "from": "b", "to": "j"}]`, "")
	run, nodes := r.run(t, p, "")
	if run.Status != store.RunCompleted {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	// In sequence the branches would not overlap at all; in parallel they
	// overlap for about their whole length, whatever the overhead around.
	a, b := nodes["a"], nodes["b"]
	end, begin := a.FinishedAt, b.StartedAt
	if b.FinishedAt.Before(end) {
		end = b.FinishedAt
	}
	if a.StartedAt.After(begin) {
		begin = a.StartedAt
	}
	overlap := end.Sub(begin)
	if overlap < ms*time.Millisecond*8/10 || r.probe.peak.Load() != 2 {
		t.Errorf("two %d ms branches overlapped for %s, %d at once", ms, overlap, r.probe.peak.Load())
	}
	t.Logf("the whole run took %s", run.FinishedAt.Sub(run.StartedAt))
}

func TestMaxParallel(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	nodes := []string{}
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		nodes = append(nodes, sleepNode(id, 60))
	}
	p := r.pipeline(t, "["+strings.Join(nodes, ",")+"]", "[]", `{"max_parallel": 2}`)
	run, got := r.run(t, p, "")
	if run.Status != store.RunCompleted || len(got) != 6 {
		t.Fatalf("run %s: %s, %d nodes", run.Status, run.Error, len(got))
	}
	if peak := r.probe.peak.Load(); peak != 2 {
		t.Errorf("%d nodes ran at once, want max_parallel 2", peak)
	}
}

func TestConditions(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	p := r.pipeline(t, `[
		{"id": "start", "type": "trigger"},
		{"id": "big", "type": "condition", "config": {"expression": "trigger.n > 10"}},
		{"id": "small", "type": "condition", "config": {"expression": "trigger.n <= 10"}},
		{"id": "on_big", "type": "tool", "config": {"tool": "test.echo", "input": {"branch": "big"}}},
		{"id": "on_small", "type": "tool", "config": {"tool": "test.echo", "input": {"branch": "small"}}},
		{"id": "join", "type": "join"},
		{"id": "never1", "type": "condition", "config": {"expression": "false"}},
		{"id": "never2", "type": "condition", "config": {"expression": "1 > 2"}},
		{"id": "behind_two", "type": "tool", "config": {"tool": "test.echo", "input": {}}},
		{"id": "edge_yes", "type": "tool", "config": {"tool": "test.echo", "input": {}}},
		{"id": "edge_no", "type": "tool", "config": {"tool": "test.echo", "input": {}}}
	]`, `[
		{"id": "e1", "from": "start", "to": "big"},
		{"id": "e2", "from": "start", "to": "small"},
		{"id": "e3", "from": "big", "to": "on_big"},
		{"id": "e4", "from": "small", "to": "on_small"},
		{"id": "e5", "from": "on_big", "to": "join"},
		{"id": "e6", "from": "on_small", "to": "join"},
		{"id": "e7", "from": "start", "to": "never1"},
		{"id": "e8", "from": "start", "to": "never2"},
		{"id": "e9", "from": "never1", "to": "behind_two"},
		{"id": "e10", "from": "never2", "to": "behind_two"},
		{"id": "e11", "from": "start", "to": "edge_yes", "condition": "input.start.n == 3"},
		{"id": "e12", "from": "start", "to": "edge_no", "condition": "input.start.n == 4"}
	]`, "")
	run, nodes := r.run(t, p, `{"n": 3}`)
	if run.Status != store.RunCompleted {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	want := map[string]store.NodeStatus{
		"start": store.NodeCompleted, "big": store.NodeCompleted, "small": store.NodeCompleted,
		"on_big": store.NodeSkipped, "on_small": store.NodeCompleted, "join": store.NodeCompleted,
		"never1": store.NodeCompleted, "never2": store.NodeCompleted, "behind_two": store.NodeSkipped,
		"edge_yes": store.NodeCompleted, "edge_no": store.NodeSkipped,
	}
	if got := statuses(nodes); !maps.Equal(got, want) {
		t.Errorf("statuses\n got %v\nwant %v", got, want)
	}
	if j := output(t, nodes["join"]); len(j) != 1 || j["on_small"] == nil {
		t.Errorf("the join saw %v, want only the live branch", j)
	}
	if got := output(t, nodes["big"]); got["result"] != false {
		t.Errorf("big output %v", got)
	}
}

func TestOnError(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	edges := `[{"id": "e1", "from": "bad", "to": "next"}, {"id": "e2", "from": "slow", "to": "after_slow"}]`
	nodes := func(onError string) string {
		return `[
			{"id": "bad", "type": "tool", "config": {"tool": "test.invalid", "input": {}}` + onError + `},
			{"id": "next", "type": "tool", "config": {"tool": "test.echo", "input": {"saw": "{{ nodes.bad.output }}"}}},
			` + sleepNode("slow", 3000) + `,
			{"id": "after_slow", "type": "tool", "config": {"tool": "test.echo", "input": {}}}
		]`
	}

	t.Run("fail", func(t *testing.T) {
		run, got := r.run(t, r.pipeline(t, nodes(""), edges, ""), "")
		if run.Status != store.RunFailed || run.ErrorCode != gathering.EINVALID || !strings.Contains(run.Error, "bad") {
			t.Fatalf("run %s %s: %q", run.Status, run.ErrorCode, run.Error)
		}
		want := map[string]store.NodeStatus{"bad": store.NodeFailed, "next": store.NodeCancelled,
			"slow": store.NodeCancelled, "after_slow": store.NodeCancelled}
		if s := statuses(got); !maps.Equal(s, want) {
			t.Errorf("statuses %v, want %v", s, want)
		}
		if n := len(r.attempts(t, run.ID, "bad")); n != 1 {
			t.Errorf("a non-retryable error was attempted %d times", n)
		}
	})
	t.Run("continue", func(t *testing.T) {
		run, got := r.run(t, r.pipeline(t, nodes(`, "on_error": "continue"`), edges, ""), "")
		if run.Status != store.RunCompleted || got["bad"].Status != store.NodeFailed {
			t.Fatalf("run %s: %s; bad %s", run.Status, run.Error, got["bad"].Status)
		}
		saw := output(t, got["next"])["saw"]
		if want := map[string]any{"status": "failed", "error": "this input is never right"}; !reflect.DeepEqual(saw, want) {
			t.Errorf("the successor saw %v, want %v", saw, want)
		}
	})
	t.Run("default", func(t *testing.T) {
		run, got := r.run(t, r.pipeline(t, nodes(`, "on_error": "default", "default": {"fallback": 7}`), edges, ""), "")
		if run.Status != store.RunCompleted {
			t.Fatalf("run %s: %s", run.Status, run.Error)
		}
		if saw := output(t, got["next"])["saw"]; !reflect.DeepEqual(saw, map[string]any{"fallback": 7.0}) {
			t.Errorf("the successor saw %v, want the default", saw)
		}
	})
}

func TestRetriesUnderFakeTime(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{fakeTime: true})
	r.probe.failsN.Store(2)
	p := r.pipeline(t, `[{"id": "f", "type": "tool", "config": {"tool": "test.flaky", "input": {}}}]`, "[]",
		`{"retry": {"max_attempts": 4, "initial_seconds": 1, "multiplier": 2}}`)
	run, _ := r.run(t, p, "")
	if run.Status != store.RunCompleted {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	attempts := r.attempts(t, run.ID, "f")
	got := []store.NodeStatus{}
	for _, a := range attempts {
		got = append(got, a.Status)
	}
	if want := []store.NodeStatus{store.NodeFailed, store.NodeFailed, store.NodeCompleted}; !reflect.DeepEqual(got, want) {
		t.Errorf("attempts %v, want %v", got, want)
	}
	if sleeps := r.clock.recorded(); !reflect.DeepEqual(sleeps, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("backoff %v, want 1s then 2s", sleeps)
	}
	if attempts[0].ErrorCode != gathering.EUNAVAILABLE || attempts[0].Error != "flaky is down" {
		t.Errorf("first attempt %+v", attempts[0])
	}

	r.probe.failsN.Store(10)
	run, _ = r.run(t, p, "")
	if run.Status != store.RunFailed || len(r.attempts(t, run.ID, "f")) != 4 {
		t.Errorf("run %s after %d attempts, want failed after 4", run.Status, len(r.attempts(t, run.ID, "f")))
	}
}

func TestBackoffSpacingAndJitter(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{fakeTime: true, opts: engine.Options{Jitter: func() float64 { return 0.999 }}})
	r.probe.failsN.Store(100)
	p := r.pipeline(t, `[{"id": "f", "type": "tool", "config": {"tool": "test.flaky", "input": {}}}]`, "[]",
		`{"retry": {"max_attempts": 6, "initial_seconds": 2, "multiplier": 3, "max_seconds": 30}}`)
	r.run(t, p, "")
	// 2, 6, 18, 30 (capped), 30, each up to +20 %.
	want := []float64{2, 6, 18, 30, 30}
	got := r.clock.recorded()
	if len(got) != len(want) {
		t.Fatalf("backoff %v", got)
	}
	for i, w := range want {
		if s := got[i].Seconds(); s < w*1.19 || s > w*1.2 {
			t.Errorf("delay %d is %.2fs, want %.0fs + 20%%", i+1, s, w)
		}
	}
}

func TestBreakerOpensAcrossRunsAndCloses(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{fakeTime: true})
	r.probe.broken.Store(true)
	p := r.pipeline(t, `[{"id": "d", "type": "tool", "retry": {"max_attempts": 2}, "config": {"tool": "test.down", "input": {}}}]`, "[]", "")
	for i := range 5 {
		if run, _ := r.run(t, p, ""); run.Status != store.RunFailed || strings.Contains(run.Error, "circuit") {
			t.Fatalf("run %d: %s %q", i, run.Status, run.Error)
		}
	}
	if r.probe.total() != 10 {
		t.Fatalf("%d calls, want 5 runs × 2 attempts", r.probe.total())
	}
	run, _ := r.run(t, p, "")
	if run.Status != store.RunFailed || !strings.Contains(run.Error, "circuit breaker for tool:test.down is open") {
		t.Fatalf("the run after five exhausted failures: %s %q", run.Status, run.Error)
	}
	if r.probe.total() != 10 {
		t.Errorf("the open breaker let a call through")
	}
	if b := r.eng.Breakers(); len(b) != 1 || b[0].State != engine.BreakerOpen || b[0].Failures != 5 {
		t.Errorf("breakers %+v", b)
	}
	r.clock.advance(engine.DefaultBreakerCoolDown)
	r.probe.broken.Store(false)
	if run, _ := r.run(t, p, ""); run.Status != store.RunCompleted {
		t.Fatalf("the probe after the cool-down: %s %q", run.Status, run.Error)
	}
	if b := r.eng.Breakers(); b[0].State != engine.BreakerClosed || b[0].Failures != 0 {
		t.Errorf("after a successful probe: %+v", b)
	}
}

func TestCancelStopsADelayAtOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	p := r.pipeline(t, `[{"id": "wait", "type": "delay", "config": {"seconds": 60}},
		{"id": "after", "type": "tool", "config": {"tool": "test.echo", "input": {}}}]`,
		`[{"id": "e1", "from": "wait", "to": "after"}]`, "")
	run := r.submit(t, p, "")
	r.wait(t, run.ID, 5*time.Second, func(s store.RunStatus) bool { return s == store.RunRunning })
	for r.latest(t, run.ID)["wait"].Status != store.NodeRunning {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	if _, err := r.eng.Cancel(context.Background(), run.ID); err != nil {
		t.Fatal(err)
	}
	got := r.finished(t, run.ID)
	if got.Status != store.RunCancelled || time.Since(start) > time.Second {
		t.Fatalf("run %s after %s", got.Status, time.Since(start))
	}
	time.Sleep(300 * time.Millisecond)
	got, _ = r.db.RunGet(context.Background(), run.ID)
	nodes := r.latest(t, run.ID)
	if got.Status != store.RunCancelled || nodes["wait"].Status != store.NodeCancelled || nodes["after"].Status != store.NodeCancelled {
		t.Errorf("later: run %s, nodes %v", got.Status, statuses(nodes))
	}
	if _, err := r.eng.Cancel(context.Background(), run.ID); gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Errorf("a second cancel: %v", err)
	}
}

func TestRunTimeout(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	p := r.pipeline(t, `[`+sleepNode("slow", 10_000)+`]`, "[]", `{"timeout_seconds": 1}`)
	start := time.Now()
	run, nodes := r.run(t, p, "")
	if run.Status != store.RunTimedOut || nodes["slow"].Status != store.NodeTimedOut || time.Since(start) > 3*time.Second {
		t.Errorf("run %s (%s), node %s after %s", run.Status, run.Error, nodes["slow"].Status, time.Since(start))
	}
}

func TestNodeTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	p := r.pipeline(t, `[{"id": "slow", "type": "tool", "timeout_seconds": 1, "retry": {"max_attempts": 2, "initial_seconds": 0.01},
		"config": {"tool": "test.sleep", "input": {"ms": 5000}}}]`, "[]", "")
	run, _ := r.run(t, p, "")
	attempts := r.attempts(t, run.ID, "slow")
	if run.Status != store.RunFailed || len(attempts) != 2 || attempts[0].Status != store.NodeTimedOut || attempts[1].Status != store.NodeTimedOut {
		t.Errorf("run %s: %d attempts %+v", run.Status, len(attempts), attempts)
	}
}

func TestApprovals(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	p := r.pipeline(t, `[{"id": "ok", "type": "approval", "config": {"message": "Ship it?"}},
		{"id": "after", "type": "tool", "config": {"tool": "test.echo", "input": {"by": "{{ nodes.ok.output.decided_by }}"}}}]`,
		`[{"id": "e1", "from": "ok", "to": "after"}]`, "")
	waiting := func(s store.RunStatus) bool { return s == store.RunWaitingApproval }

	run := r.submit(t, p, "")
	r.wait(t, run.ID, 5*time.Second, waiting)
	if _, err := r.eng.Decide(context.Background(), run.ID, "nope", true, "", r.userID); gathering.ErrorCode(err) != gathering.ENOTFOUND {
		t.Errorf("deciding an unknown node: %v", err)
	}
	if _, err := r.eng.Decide(context.Background(), run.ID, "ok", true, "fine", r.userID); err != nil {
		t.Fatal(err)
	}
	done := r.finished(t, run.ID)
	if done.Status != store.RunCompleted || output(t, r.latest(t, run.ID)["after"])["by"] != float64(r.userID) {
		t.Fatalf("approved run %s: %s", done.Status, done.Error)
	}
	if _, err := r.eng.Decide(context.Background(), run.ID, "ok", false, "", r.userID); gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Errorf("deciding a finished run: %v", err)
	}

	run = r.submit(t, p, "")
	r.wait(t, run.ID, 5*time.Second, waiting)
	if _, err := r.eng.Decide(context.Background(), run.ID, "ok", false, "not today", r.userID); err != nil {
		t.Fatal(err)
	}
	done = r.finished(t, run.ID)
	if done.Status != store.RunFailed || !strings.Contains(done.Error, "not today") {
		t.Errorf("rejected run %s: %q", done.Status, done.Error)
	}
}

func TestApprovalExpires(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	p := r.pipeline(t, `[{"id": "ok", "type": "approval", "config": {"expires_in_seconds": 1}}]`, "[]", "")
	run, nodes := r.run(t, p, "")
	if run.Status != store.RunFailed || nodes["ok"].Status != store.NodeTimedOut || len(r.attempts(t, run.ID, "ok")) != 1 {
		t.Errorf("run %s (%s), node %s", run.Status, run.Error, nodes["ok"].Status)
	}
}

func TestRetryResumesFromFailedNodes(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	r.probe.broken.Store(true)
	p := r.pipeline(t, `[{"id": "a", "type": "tool", "config": {"tool": "test.echo", "input": {}}},
		{"id": "b", "type": "tool", "retry": {"max_attempts": 1}, "config": {"tool": "test.down", "input": {}}},
		{"id": "c", "type": "tool", "config": {"tool": "test.echo", "input": {}}}]`,
		`[{"id": "e1", "from": "a", "to": "b"}, {"id": "e2", "from": "b", "to": "c"}]`, "")
	run, _ := r.run(t, p, "")
	if run.Status != store.RunFailed {
		t.Fatalf("run %s", run.Status)
	}
	r.probe.broken.Store(false)
	if _, err := r.eng.Retry(context.Background(), run.ID); err != nil {
		t.Fatal(err)
	}
	done := r.finished(t, run.ID)
	if done.Status != store.RunCompleted {
		t.Fatalf("retried run %s: %s", done.Status, done.Error)
	}
	if r.probe.count(run.ID+":a") != 1 || r.probe.count(run.ID+":b") != 2 || r.probe.count(run.ID+":c") != 1 {
		t.Errorf("calls %v: a once, b twice, c once", r.probe.calls)
	}
	if _, err := r.eng.Retry(context.Background(), run.ID); gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Errorf("retrying a completed run: %v", err)
	}
}

func TestSubmitRefusals(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	bad := r.pipeline(t, `[{"id": "a", "type": "tool", "config": {"tool": "no.such_tool"}}]`, "[]", "")
	_, err := r.eng.Submit(context.Background(), bad.ID, nil, r.userID)
	var invalid *engine.InvalidError
	if !errors.As(err, &invalid) || len(invalid.Problems) == 0 || invalid.Problems[0].NodeID != "a" {
		t.Errorf("an invalid pipeline: %v", err)
	}
	if _, err := r.eng.Submit(context.Background(), 999_999, nil, r.userID); gathering.ErrorCode(err) != gathering.ENOTFOUND {
		t.Errorf("a missing pipeline: %v", err)
	}
}
