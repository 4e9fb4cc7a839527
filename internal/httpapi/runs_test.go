package httpapi

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/event"
)

// runClient is a client of one pipeline's runs over the API.
type runClient struct {
	t     *testing.T
	s     setup
	token string
	id    string // the pipeline's
}

// newPipeline saves a pipeline named name with status and returns a
// client of its runs.
func newPipeline(t *testing.T, s setup, token, name, status, nodes, edges string) runClient {
	t.Helper()
	code, body := api(t, "POST", s.srv.URL+"/pipelines", token,
		`{"name":"`+name+`","status":"`+status+`","nodes":`+nodes+`,"edges":`+edges+`}`)
	mustStatus(t, 201, code, body, "create a pipeline")
	var p PipelineResponse
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	return runClient{t: t, s: s, token: token, id: strconv.FormatInt(p.ID, 10)}
}

// url is the address of a path under the pipeline.
func (c runClient) url(path string) string { return c.s.srv.URL + "/pipelines/" + c.id + path }

// start runs the pipeline and checks the 202 and its Location.
func (c runClient) start(body string) RunResponse {
	c.t.Helper()
	resp, out := post(c.t, "POST", c.url("/run"), c.token, body)
	mustStatus(c.t, 202, resp.StatusCode, out, "run")
	run := decodeRun(c.t, out)
	if want := "/pipelines/" + c.id + "/runs/" + run.ID; resp.Header.Get("Location") != want || run.Status != "pending" {
		c.t.Fatalf("run: Location %q, want %q: %s", resp.Header.Get("Location"), want, out)
	}
	return run
}

// detail returns a run with its nodes.
func (c runClient) detail(runID string) RunDetailResponse {
	c.t.Helper()
	code, body := api(c.t, "GET", c.url("/runs/"+runID), c.token, "")
	mustStatus(c.t, 200, code, body, "get a run")
	var d RunDetailResponse
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		c.t.Fatal(err)
	}
	return d
}

// await polls a run until ok holds.
func (c runClient) await(runID string, ok func(RunDetailResponse) bool) RunDetailResponse {
	c.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		d := c.detail(runID)
		if ok(d) {
			return d
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("run %s stays %s (%s): %+v", runID, d.Status, d.Error, d.Nodes)
		}
	}
}

// awaitStatus polls a run until it has status.
func (c runClient) awaitStatus(runID, status string) RunDetailResponse {
	c.t.Helper()
	return c.await(runID, func(d RunDetailResponse) bool { return d.Status == status })
}

func decodeRun(t *testing.T, body string) RunResponse {
	t.Helper()
	var r RunResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.ID == "" {
		t.Fatalf("not a run: %s", body)
	}
	return r
}

// node returns the node of a run's detail with that id.
func node(t *testing.T, d RunDetailResponse, id string) RunNodeResponse {
	t.Helper()
	i := slices.IndexFunc(d.Nodes, func(n RunNodeResponse) bool { return n.NodeID == id })
	if i < 0 {
		t.Fatalf("no node %s in %+v", id, d.Nodes)
	}
	return d.Nodes[i]
}

const (
	threeNodes = `[{"id":"start","type":"trigger"},
		{"id":"b","type":"tool","config":{"tool":"test.echo","input":{"text":"{{ trigger.word }}"}}},
		{"id":"c","type":"tool","config":{"tool":"test.echo","input":{"text":"got {{ nodes.b.output.text }}"}}}]`
	threeEdges = `[{"id":"e1","from":"start","to":"b"},{"id":"e2","from":"b","to":"c"}]`
)

func TestRunOverHTTP(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	c := newPipeline(t, s, callers(t, s)[2].token, "Greeter", "active", threeNodes, threeEdges)
	sub, err := s.api.bus.Subscribe(event.SubscribeOptions{Filter: event.Filter{Types: []string{"pipeline.run.*"}, Topics: []string{"pipeline:" + c.id}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	trigger := `{"word":"hi","z":[1,true,null],"a":{}}`
	run := c.start(`{"trigger_data":` + trigger + `}`)
	if string(run.TriggerData) != trigger || !run.StartedAt.IsZero() || run.DurationMS != nil {
		t.Fatalf("submitted run: %+v", run)
	}
	d := c.awaitStatus(run.ID, "completed")
	if string(d.TriggerData) != trigger || d.DurationMS == nil || d.FinishedAt.IsZero() {
		t.Fatalf("completed run: %+v", d.RunResponse)
	}
	ids := []string{d.Nodes[0].NodeID, d.Nodes[1].NodeID, d.Nodes[2].NodeID}
	if !slices.Equal(ids, []string{"start", "b", "c"}) || len(d.Nodes) != 3 {
		t.Fatalf("nodes %v, want the definition's order", ids)
	}
	for _, n := range d.Nodes {
		if n.Status != "completed" || n.Attempt != 1 || len(n.Attempts) != 1 || n.Attempts[0].Status != "completed" || n.DurationMS == nil {
			t.Errorf("node %s: %+v", n.NodeID, n)
		}
	}
	if out := string(node(t, d, "c").Output); out != `{"text":"got hi"}` {
		t.Errorf("c's output %s", out)
	}
	if in := string(node(t, d, "b").Input); in != `{"text":"hi"}` {
		t.Errorf("b's input %s", in)
	}
	if d.Usage != (RunUsage{}) || len(d.Approvals) != 0 {
		t.Errorf("usage %+v, approvals %+v", d.Usage, d.Approvals)
	}
	assertRunEvents(t, sub, run.ID)
	assertRunList(t, c, run.ID)
	code, body := api(t, "POST", c.url("/runs/"+run.ID+"/retry"), c.token, "")
	mustStatus(t, 409, code, body, "retry a completed run")
	code, body = api(t, "POST", c.url("/runs/"+run.ID+"/cancel"), c.token, "")
	mustStatus(t, 409, code, body, "cancel a completed run")
	code, body = api(t, "GET", s.srv.URL+"/pipelines/999999/runs/"+run.ID, c.token, "")
	mustStatus(t, 404, code, body, "a run under another pipeline's id")
}

// assertRunEvents checks that the bus announced the run's start and end,
// with the pipeline's and the run's topics.
func assertRunEvents(t *testing.T, sub *event.Subscription, runID string) {
	t.Helper()
	seen := map[string][]string{}
	timeout := time.After(5 * time.Second)
	for seen["pipeline.run.completed"] == nil {
		select {
		case f := <-sub.Frames():
			seen[f.Event.Type] = f.Event.Topics
		case <-timeout:
			t.Fatalf("events seen: %v", seen)
		}
	}
	// The engine announces a claimed run by its status: running.
	started := seen["pipeline.run.started"]
	if started == nil {
		started = seen["pipeline.run.running"]
	}
	for _, topics := range [][]string{started, seen["pipeline.run.completed"]} {
		if !slices.Contains(topics, "run:"+runID) || len(topics) != 2 || !strings.HasPrefix(topics[0], "pipeline:") {
			t.Errorf("events %v", seen)
		}
	}
}

// assertRunList checks the list of the pipeline's runs, which holds one
// completed run.
func assertRunList(t *testing.T, c runClient, runID string) {
	t.Helper()
	code, body := api(t, "GET", c.url("/runs?status=completed&limit=5"), c.token, "")
	list := decodeList[RunResponse](t, body)
	if code != 200 || list.Total != 1 || list.Items[0].ID != runID || strings.Contains(body, `"nodes"`) {
		t.Fatalf("runs: %d %s", code, body)
	}
	for _, secret := range []string{"owner", "epoch", "lease"} {
		if strings.Contains(body, secret) {
			t.Errorf("the list shows %s: %s", secret, body)
		}
	}
	code, body = api(t, "GET", c.url("/runs?status=failed"), c.token, "")
	if list := decodeList[RunResponse](t, body); code != 200 || list.Total != 0 || list.Items == nil {
		t.Fatalf("failed runs: %d %s", code, body)
	}
	code, body = api(t, "GET", c.url("/runs?status=done"), c.token, "")
	if code != 422 || !slices.Equal(problemFields(t, body), []string{"status"}) {
		t.Fatalf("unknown status: %d %s", code, body)
	}
	code, body = api(t, "GET", c.s.srv.URL+"/pipelines/999999/runs", c.token, "")
	mustStatus(t, 404, code, body, "runs of a missing pipeline")
}

func TestRunRefusals(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	anon, viewer, member := cs[0].token, cs[1].token, cs[2].token
	bad := newPipeline(t, s, member, "Broken", "draft", `[{"id":"x","type":"tool","config":{"tool":"no.such_tool"}}]`, "[]")
	code, body := api(t, "POST", bad.url("/run"), member, "")
	if code != 422 || !slices.ContainsFunc(problemFields(t, body), func(f string) bool { return strings.HasPrefix(f, "nodes/x/") }) {
		t.Fatalf("run an invalid pipeline: %d %s", code, body)
	}
	paused := newPipeline(t, s, member, "Paused", "paused", threeNodes, threeEdges)
	code, body = api(t, "POST", paused.url("/run"), member, "")
	mustStatus(t, 409, code, body, "run a paused pipeline")
	good := newPipeline(t, s, member, "Greeter", "active", threeNodes, threeEdges)
	for _, c := range []struct {
		token, body string
		want        int
	}{
		{viewer, "", 403},
		{anon, "", 401},
		{member, `{"trigger_data":`, 400},
		{member, `{"trigger":{}}`, 422},
	} {
		code, body = api(t, "POST", good.url("/run"), c.token, c.body)
		mustStatus(t, c.want, code, body, "run with "+c.body)
	}
	code, body = api(t, "POST", s.srv.URL+"/pipelines/999999/run", member, "")
	mustStatus(t, 404, code, body, "run a missing pipeline")
	code, body = api(t, "GET", good.url("/runs/nope"), viewer, "")
	mustStatus(t, 404, code, body, "a missing run")
	run := good.start("")
	if string(run.TriggerData) != "null" {
		t.Fatalf("a run without a body: %+v", run)
	}
	good.awaitStatus(run.ID, "failed") // the template names trigger.word
}

func TestCancelRunAndDeleteItsPipeline(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	c := newPipeline(t, s, callers(t, s)[2].token, "Waiter", "draft",
		`[{"id":"wait","type":"delay","config":{"seconds":60}},{"id":"after","type":"tool","config":{"tool":"test.echo","input":{"text":"late"}}}]`,
		`[{"id":"e1","from":"wait","to":"after"}]`)
	run := c.start(`{}`)
	c.await(run.ID, func(d RunDetailResponse) bool { return node(t, d, "wait").Status == "running" })
	code, body := api(t, "DELETE", c.url(""), c.token, "")
	if code != 409 || !strings.Contains(body, "1 unfinished run") {
		t.Fatalf("delete a pipeline with a running run: %d %s", code, body)
	}
	start := time.Now()
	code, body = api(t, "POST", c.url("/runs/"+run.ID+"/cancel"), c.token, "")
	mustStatus(t, 200, code, body, "cancel")
	if got := decodeRun(t, body); got.Status != "cancelled" || got.FinishedAt.IsZero() {
		t.Fatalf("cancelled: %s", body)
	}
	d := c.await(run.ID, func(d RunDetailResponse) bool { return node(t, d, "wait").Status == "cancelled" })
	if node(t, d, "after").Status != "cancelled" || time.Since(start) > 5*time.Second {
		t.Errorf("after the cancel: %+v", d.Nodes)
	}
	code, body = api(t, "POST", c.url("/runs/"+run.ID+"/cancel"), c.token, "")
	mustStatus(t, 409, code, body, "cancel twice")
	code, body = api(t, "DELETE", c.url(""), c.token, "")
	mustStatus(t, 204, code, body, "delete once the run is cancelled")
	code, body = api(t, "GET", c.url("/runs/"+run.ID), c.token, "")
	mustStatus(t, 404, code, body, "the run went with its pipeline")
}

func TestApprovalsOverHTTP(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	c := newPipeline(t, s, member, "Shipper", "active",
		`[{"id":"ok","type":"approval","config":{"message":"Ship it?"}},{"id":"after","type":"tool","config":{"tool":"test.echo","input":{"text":"shipped"}}}]`,
		`[{"id":"e1","from":"ok","to":"after"}]`)
	other := newPipeline(t, s, member, "Greeter", "active", threeNodes, threeEdges)
	run := c.start("")
	d := c.awaitStatus(run.ID, "waiting_approval")
	if len(d.Approvals) != 1 || d.Approvals[0].NodeID != "ok" || d.Approvals[0].Message != "Ship it?" || d.Approvals[0].Decided {
		t.Fatalf("approvals while waiting: %+v", d.Approvals)
	}
	decide := c.url("/runs/" + run.ID + "/approvals/ok")
	for _, r := range []struct {
		url, token, body string
		want             int
		fields           []string
	}{
		{c.url("/runs/" + run.ID + "/approvals/nope"), member, `{"approved":true}`, 404, nil},
		{other.url("/runs/" + run.ID + "/approvals/ok"), member, `{"approved":true}`, 404, nil},
		{decide, viewer, `{"approved":true}`, 403, nil},
		{decide, member, `{"comment":"yes"}`, 422, []string{"approved"}},
		{decide, member, `{"approved":true,"comment":"` + strings.Repeat("é", 2001) + `"}`, 422, []string{"comment"}},
	} {
		code, body := api(t, "POST", r.url, r.token, r.body)
		mustStatus(t, r.want, code, body, "decide "+r.url)
		if r.fields != nil && !slices.Equal(problemFields(t, body), r.fields) {
			t.Errorf("fields of %s: %s", r.body, body)
		}
	}
	code, body := api(t, "POST", decide, member, `{"approved":true,"comment":"fine"}`)
	mustStatus(t, 200, code, body, "approve")
	var ap ApprovalResponse
	if err := json.Unmarshal([]byte(body), &ap); err != nil || !ap.Decided || !ap.Approved || ap.Comment != "fine" || ap.DecidedBy == 0 || ap.DecidedAt.IsZero() {
		t.Fatalf("approval: %s", body)
	}
	d = c.awaitStatus(run.ID, "completed")
	if string(node(t, d, "after").Output) != `{"text":"shipped"}` || !d.Approvals[0].Approved {
		t.Fatalf("approved run: %+v", d)
	}
	code, body = api(t, "POST", decide, member, `{"approved":false}`)
	mustStatus(t, 409, code, body, "decide a finished run")

	rejected := c.start("")
	c.awaitStatus(rejected.ID, "waiting_approval")
	code, body = api(t, "POST", c.url("/runs/"+rejected.ID+"/approvals/ok"), member, `{"approved":false,"comment":"not today"}`)
	mustStatus(t, 200, code, body, "reject")
	d = c.awaitStatus(rejected.ID, "failed")
	if !strings.Contains(d.Error, "not today") || node(t, d, "after").Status == "completed" {
		t.Fatalf("rejected run: %+v", d)
	}
	resp, body := post(t, "POST", c.url("/runs/"+rejected.ID+"/retry"), member, "")
	mustStatus(t, 202, resp.StatusCode, body, "retry a failed run")
	if resp.Header.Get("Location") != "/pipelines/"+c.id+"/runs/"+rejected.ID || decodeRun(t, body).Status != "pending" {
		t.Fatalf("retry: %s %s", resp.Header.Get("Location"), body)
	}
	d = c.awaitStatus(rejected.ID, "failed") // the approval stays rejected
	if ok := node(t, d, "ok"); ok.Attempt != 2 || len(ok.Attempts) != 2 {
		t.Errorf("the approval node after a retry: %+v", ok)
	}
}

func TestBreakersRouteBeforePipelineID(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	viewer := callers(t, s)[1].token
	code, body := api(t, "GET", s.srv.URL+"/pipelines/breakers", viewer, "")
	if code != 200 || strings.TrimSpace(body) != `{"items":[],"total":0}` {
		t.Fatalf("breakers: %d %s", code, body)
	}
	code, body = api(t, "GET", s.srv.URL+"/pipelines/999999", viewer, "")
	mustStatus(t, 404, code, body, "a pipeline id beside the static segment")
}
