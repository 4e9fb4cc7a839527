package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/store/pgtest"
)

// deliveries is a webhook receiver that keeps every request it gets, and
// the log of the nodes it acted on: once per Idempotency-Key, as an
// idempotent receiver does.
type deliveries struct {
	mu   sync.Mutex
	raw  map[string]int // requests per key
	log  []string       // node names, in order of first delivery
	slow time.Duration
}

func newDeliveries(t *testing.T, slow time.Duration) (*deliveries, *httptest.Server) {
	d := &deliveries{raw: map[string]int{}, slow: slow}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Node string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		time.Sleep(d.slow)
		d.mu.Lock()
		key := r.Header.Get("Idempotency-Key")
		if d.raw[key]++; d.raw[key] == 1 {
			d.log = append(d.log, body.Node)
		}
		d.mu.Unlock()
		w.Write([]byte(`{"ok": true}`))
	}))
	t.Cleanup(srv.Close)
	return d, srv
}

// snapshot returns the log and the request count per key.
func (d *deliveries) snapshot() ([]string, map[string]int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	raw := map[string]int{}
	for k, v := range d.raw {
		raw[k] = v
	}
	return slices.Clone(d.log), raw
}

// chainPipeline is a pipeline of n tool nodes in a chain, each POSTing its
// name to url.
func chainPipeline(name, url string, n int) string {
	var nodes, edges []string
	for i := 1; i <= n; i++ {
		nodes = append(nodes, fmt.Sprintf(`{"id": "n%d", "type": "tool", "config": {"tool": "http.request",
			"input": {"method": "POST", "url": %q, "body": {"node": "n%d"}}}}`, i, url, i))
		if i > 1 {
			edges = append(edges, fmt.Sprintf(`{"id": "e%d", "from": "n%d", "to": "n%d"}`, i, i-1, i))
		}
	}
	return fmt.Sprintf(`{"name": %q, "status": "active", "nodes": [%s], "edges": [%s]}`, name, strings.Join(nodes, ","), strings.Join(edges, ","))
}

// runView is the part of GET /pipelines/{id}/runs/{run_id} these tests read.
type runView struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Nodes  []struct {
		NodeID  string `json:"node_id"`
		Status  string `json:"status"`
		Attempt int    `json:"attempt"`
	} `json:"nodes"`
}

// getRun reads a run over the API.
func getRun(t *testing.T, url, token, runPath string) runView {
	t.Helper()
	code, body := request(t, "GET", url+runPath, token, "")
	var v runView
	if code != 200 || json.Unmarshal([]byte(body), &v) != nil {
		t.Fatalf("GET %s: %d %s", runPath, code, body)
	}
	return v
}

// startRun creates a pipeline and runs it, returning the run's path.
func startRun(t *testing.T, url, token, definition string) string {
	t.Helper()
	code, body := request(t, "POST", url+"/pipelines", token, definition)
	var p struct{ ID int64 }
	if code != 201 || json.Unmarshal([]byte(body), &p) != nil {
		t.Fatalf("create pipeline: %d %s", code, body)
	}
	code, body = request(t, "POST", fmt.Sprintf("%s/pipelines/%d/run", url, p.ID), token, `{"trigger_data": {"why": "test"}}`)
	var run struct{ ID string }
	if code != 202 || json.Unmarshal([]byte(body), &run) != nil {
		t.Fatalf("run: %d %s", code, body)
	}
	return fmt.Sprintf("/pipelines/%d/runs/%s", p.ID, run.ID)
}

// TestProcessRunSurvivesKill9 runs a chain of eight HTTP nodes on the real
// binary, kills it with SIGKILL mid-run and starts it again on the same
// data: the run completes, every node was delivered, and the nodes
// recorded as completed before the kill were never sent again.
func TestProcessRunSurvivesKill9(t *testing.T) {
	t.Parallel()
	const nodes = 8
	recv, srv := newDeliveries(t, 250*time.Millisecond)
	vars, password := adminVars(t)
	vars = append(vars, "GATHERING_OUTBOUND_ALLOWLIST=127.0.0.0/8", "SECRET_KEY="+strings.Repeat("k", 40))
	dir := t.TempDir()
	p := serveProcess(t, dir, vars...)
	token := accessToken(t, p.url, "ops@example.com", password)
	runPath := startRun(t, p.url, token, chainPipeline("chain", srv.URL, nodes))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if log, _ := recv.snapshot(); len(log) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run never got going: %+v", getRun(t, p.url, token, runPath))
		}
	}
	before := getRun(t, p.url, token, runPath)
	p.cmd.Process.Kill()
	p.wait(t, 10*time.Second)

	restarted := serveProcess(t, dir, vars...)
	var after runView
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if after = getRun(t, restarted.url, token, runPath); after.Status == "completed" || after.Status == "failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run did not finish after the restart: %+v", after)
		}
	}
	if after.Status != "completed" {
		t.Fatalf("after the restart: %+v", after)
	}
	log, raw := recv.snapshot()
	want := make([]string, nodes)
	for i := range want {
		want[i] = fmt.Sprintf("n%d", i+1)
	}
	if !slices.Equal(log, want) {
		t.Errorf("the receiver's log is %v, want each node once in order", log)
	}
	runID := runPath[strings.LastIndex(runPath, "/")+1:]
	repeated := 0
	for _, n := range before.Nodes {
		if n.Status == "completed" && raw[runID+":"+n.NodeID] != 1 {
			t.Errorf("node %s completed before the kill and was sent %d times", n.NodeID, raw[runID+":"+n.NodeID])
		}
	}
	for key, n := range raw {
		if !strings.HasPrefix(key, runID+":") {
			t.Errorf("a request carried Idempotency-Key %q", key)
		}
		repeated += n - 1
	}
	if repeated > 1 {
		t.Errorf("%d requests were repeated; only the node in flight at the kill may be: %v", repeated, raw)
	}
	t.Logf("completed before the kill: %d nodes; repeated requests: %d", countCompleted(before), repeated)
}

// countCompleted counts a run's completed nodes.
func countCompleted(v runView) int {
	n := 0
	for _, node := range v.Nodes {
		if node.Status == "completed" {
			n++
		}
	}
	return n
}

// TestProcessCancelAbortsAcrossInstances runs a pipeline whose HTTP node
// hangs on one instance and cancels it through another sharing the same
// PostgreSQL: the run is cancelled at once and the owning instance aborts
// the in-flight request within a second.
func TestProcessCancelAbortsAcrossInstances(t *testing.T) {
	t.Parallel()
	arrived, aborted := make(chan struct{}, 1), make(chan time.Time, 1)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
			aborted <- time.Now()
		case <-time.After(time.Minute):
		}
	}))
	t.Cleanup(hang.Close)
	vars, password := adminVars(t)
	vars = append(vars, "DATABASE_URL="+pgtest.NewDatabase(t), "SECRET_KEY="+strings.Repeat("x", 40),
		"GATHERING_OUTBOUND_ALLOWLIST=127.0.0.0/8")
	owner := serveProcess(t, t.TempDir(), vars...)
	other := serveProcess(t, t.TempDir(), vars...)
	token := accessToken(t, owner.url, "ops@example.com", password)
	definition := fmt.Sprintf(`{"name": "hang", "status": "active", "nodes": [{"id": "call", "type": "tool",
		"config": {"tool": "http.request", "input": {"method": "GET", "url": %q, "timeout_seconds": 60}}}]}`, hang.URL)
	runPath := startRun(t, owner.url, token, definition)
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatalf("the node never called: %+v", getRun(t, owner.url, token, runPath))
	}
	start := time.Now()
	code, body := request(t, "POST", other.url+runPath+"/cancel", token, "")
	if code != 200 || !strings.Contains(body, `"status":"cancelled"`) {
		t.Fatalf("cancel through the other instance: %d %s", code, body)
	}
	select {
	case at := <-aborted:
		if at.Sub(start) > time.Second {
			t.Errorf("the request was aborted %s after the cancel", at.Sub(start))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the owning instance did not abort the in-flight request")
	}
	time.Sleep(200 * time.Millisecond)
	if v := getRun(t, owner.url, token, runPath); v.Status != "cancelled" || v.Nodes[0].Status != "cancelled" {
		t.Errorf("after the cancel: %+v", v)
	}
}

// fanPipeline is a pipeline of ten nodes: a trigger fanning out to three
// chains of three HTTP nodes, each POSTing its name to url.
func fanPipeline(name, url string) string {
	nodes := []string{`{"id": "start", "type": "trigger"}`}
	var edges []string
	for c := range 3 {
		for i := range 3 {
			id, from := fmt.Sprintf("c%d_%d", c, i), "start"
			if i > 0 {
				from = fmt.Sprintf("c%d_%d", c, i-1)
			}
			nodes = append(nodes, fmt.Sprintf(`{"id": %q, "type": "tool", "config": {"tool": "http.request",
				"input": {"method": "POST", "url": %q, "body": {"node": %q}}}}`, id, url, id))
			edges = append(edges, fmt.Sprintf(`{"id": "e_%s", "from": %q, "to": %q}`, id, from, id))
		}
	}
	return fmt.Sprintf(`{"name": %q, "status": "active", "nodes": [%s], "edges": [%s]}`, name, strings.Join(nodes, ","), strings.Join(edges, ","))
}

// TestProcessTwoInstancesRunEveryNodeOnce starts two binaries on one
// PostgreSQL and submits 100 runs of a 10-node pipeline through both:
// every run completes and the receiver gets each node's request exactly
// once.
func TestProcessTwoInstancesRunEveryNodeOnce(t *testing.T) {
	t.Parallel()
	const runs = 100
	recv, srv := newDeliveries(t, 0)
	vars, password := adminVars(t)
	vars = append(vars, "DATABASE_URL="+pgtest.NewDatabase(t), "SECRET_KEY="+strings.Repeat("y", 40),
		"GATHERING_OUTBOUND_ALLOWLIST=127.0.0.0/8", "GATHERING_RATE_LIMIT_WRITE=100000/min", "GATHERING_RATE_LIMIT_READ=100000/min")
	instances := []*process{serveProcess(t, t.TempDir(), vars...), serveProcess(t, t.TempDir(), vars...)}
	token := accessToken(t, instances[0].url, "ops@example.com", password)
	code, body := request(t, "POST", instances[0].url+"/pipelines", token, fanPipeline("fan", srv.URL))
	var p struct{ ID int64 }
	if code != 201 || json.Unmarshal([]byte(body), &p) != nil {
		t.Fatalf("create pipeline: %d %s", code, body)
	}
	for i := range runs {
		url := fmt.Sprintf("%s/pipelines/%d/run", instances[i%2].url, p.ID)
		if code, body := request(t, "POST", url, token, fmt.Sprintf(`{"trigger_data": {"i": %d}}`, i)); code != 202 {
			t.Fatalf("run %d: %d %s", i, code, body)
		}
	}
	list := fmt.Sprintf("%s/pipelines/%d/runs?status=completed&limit=1", instances[1].url, p.ID)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, body := request(t, "GET", list, token, "")
		var page struct{ Total int }
		_ = json.Unmarshal([]byte(body), &page)
		if page.Total == runs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d runs completed", page.Total, runs)
		}
	}
	_, raw := recv.snapshot()
	if len(raw) != runs*9 {
		t.Errorf("the receiver saw %d distinct node keys, want %d", len(raw), runs*9)
	}
	for key, n := range raw {
		if n != 1 {
			t.Errorf("%s was requested %d times", key, n)
		}
	}
}
