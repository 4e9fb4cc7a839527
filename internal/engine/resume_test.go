package engine_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
)

// TestResumeAfterADeadInstance leaves a run as a dead instance would: its
// first node completed, its second running, its lease over. The engine
// claims it, keeps the first node, runs the second again as a new attempt
// and finishes the run.
func TestResumeAfterADeadInstance(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	ctx := context.Background()
	nodes := `[{"id": "a", "type": "tool", "config": {"tool": "test.echo", "input": {}}},
		{"id": "b", "type": "tool", "config": {"tool": "test.echo", "input": {"after": "{{ nodes.a.output.x }}"}}}]`
	edges := `[{"id": "e1", "from": "a", "to": "b"}]`
	now := time.Now()
	p, err := db.PipelineCreate(ctx, store.Pipeline{Name: "resume", Status: store.PipelineActive, Nodes: json.RawMessage(nodes),
		Edges: json.RawMessage(edges), Settings: json.RawMessage(`{}`), CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	run := store.PipelineRun{ID: event.NewID(now), PipelineID: p.ID, PipelineVersion: 1, Nodes: p.Nodes, Edges: p.Edges,
		Settings: p.Settings, Status: store.RunPending, TriggerData: json.RawMessage(`null`), CreatedAt: now}
	if err := db.RunCreate(ctx, run); err != nil {
		t.Fatal(err)
	}
	claimed, err := db.RunClaim(ctx, "dead-instance", now, now.Add(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	lease := store.LeaseOf(claimed)
	if err := db.NodeRunsCreate(ctx, lease, []store.NodeRun{
		{RunID: run.ID, NodeID: "a", Attempt: 1, Status: store.NodeRunning, StartedAt: now},
		{RunID: run.ID, NodeID: "b", Attempt: 1, Status: store.NodeRunning, StartedAt: now},
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.NodeRunUpdate(ctx, lease, store.NodeRun{RunID: run.ID, NodeID: "a", Attempt: 1, Status: store.NodeCompleted,
		Output: json.RawMessage(`{"x": "from the dead"}`), StartedAt: now, FinishedAt: now}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond) // the dead instance's lease ends

	r := newRig(t, rigOptions{db: db})
	done := r.finished(t, run.ID)
	if done.Status != store.RunCompleted || done.Epoch != 2 {
		t.Fatalf("run %s (epoch %d): %s", done.Status, done.Epoch, done.Error)
	}
	if r.probe.count(run.ID+":a") != 0 || r.probe.count(run.ID+":b") != 1 {
		t.Errorf("calls %v: a must not run again, b once", r.probe.calls)
	}
	b := r.attempts(t, run.ID, "b")
	if len(b) != 2 || b[0].Status != store.NodeFailed || !b[0].StartedAt.Equal(now.Truncate(time.Millisecond)) || b[1].Status != store.NodeCompleted {
		t.Fatalf("b's attempts %+v", b)
	}
	if got := output(t, b[1]); got["after"] != "from the dead" {
		t.Errorf("b saw %v, want a's recorded output", got)
	}
}

// TestStopDrainsRunningNodesAndReleases stops an engine while a node
// runs: the node finishes and is recorded, the run is released, and a
// second engine on the same database finishes it at once without running
// the node again.
func TestStopDrainsRunningNodesAndReleases(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	first := newRig(t, rigOptions{db: db, instance: "first"})
	first.probe.started = make(chan string, 1)
	p := first.pipeline(t, `[`+sleepNode("slow", 300)+`, {"id": "next", "type": "tool", "config": {"tool": "test.echo", "input": {}}}]`,
		`[{"id": "e1", "from": "slow", "to": "next"}]`, "")
	run := first.submit(t, p, "")
	<-first.probe.started
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := first.eng.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	got, _ := db.RunGet(context.Background(), run.ID)
	nodes := first.latest(t, run.ID)
	if got.Status != store.RunRunning || got.Owner != "" || nodes["slow"].Status != store.NodeCompleted || nodes["next"].Status != store.NodePending {
		t.Fatalf("after Stop: run %s owned by %q, nodes %v", got.Status, got.Owner, statuses(nodes))
	}
	second := newRig(t, rigOptions{db: db, instance: "second"})
	if done := second.finished(t, run.ID); done.Status != store.RunCompleted {
		t.Fatalf("run %s", done.Status)
	}
	if first.probe.count(run.ID+":slow") != 1 || second.probe.count(run.ID+":slow") != 0 || second.probe.count(run.ID+":next") != 1 {
		t.Errorf("calls: first %v, second %v", first.probe.calls, second.probe.calls)
	}
}

// TestEventsFollowARun checks the run's events on the bus, in order, on
// the run's topics.
func TestEventsFollowARun(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	sub, err := r.bus.Subscribe(event.SubscribeOptions{Filter: event.Filter{Types: []string{"pipeline.run.*", "pipeline.node.*"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	p := r.pipeline(t, `[{"id": "a", "type": "tool", "config": {"tool": "test.echo", "input": {}}},
		{"id": "no", "type": "condition", "config": {"expression": "false"}},
		{"id": "c", "type": "tool", "config": {"tool": "test.echo", "input": {}}}]`, `[{"id": "e1", "from": "no", "to": "c"}]`,
		`{"max_parallel": 1}`)
	run, _ := r.run(t, p, "")
	want := []string{"pipeline.run.started", "pipeline.node.started", "pipeline.node.completed", "pipeline.node.started",
		"pipeline.node.completed", "pipeline.node.skipped", "pipeline.run.completed"}
	var got []string
	for len(got) < len(want) {
		select {
		case f := <-sub.Frames():
			if f.Kind != event.KindEvent || f.Event.Type == "pipeline.run.control" {
				continue
			}
			if !slices.Contains(f.Event.Topics, "run:"+run.ID) || !slices.Contains(f.Event.Topics, "pipeline:"+itoa64(p.ID)) {
				t.Errorf("%s on topics %v", f.Event.Type, f.Event.Topics)
			}
			got = append(got, f.Event.Type)
		case <-time.After(5 * time.Second):
			t.Fatalf("events %v, want %v", got, want)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("events\n got %v\nwant %v", got, want)
	}
}
