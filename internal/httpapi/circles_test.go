package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/store"
)

// circleAgent creates an agent on the fake provider's model and returns
// its id as text.
func circleAgent(t *testing.T, s setup, name string, canReview bool, competencies ...string) string {
	t.Helper()
	now := time.Now()
	a, err := s.store.AgentCreate(t.Context(), store.Agent{Name: name, PersonaID: 1, Provider: "fake", Model: "fake-1",
		Competencies: competencies, CanReview: canReview, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	return strconv.FormatInt(a.ID, 10)
}

// decodeAs reads a JSON body into a T.
func decodeAs[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

// wantProblemField fails the test unless body is a problem naming field.
func wantProblemField(t *testing.T, body, field string) {
	t.Helper()
	if !strings.Contains(body, `"field":"`+field+`"`) {
		t.Errorf("problem without field %s: %s", field, body)
	}
}

func TestCircleCRUD(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	base := s.srv.URL + "/circles"
	ada := circleAgent(t, s, "ada", true, "go")
	bob := circleAgent(t, s, "bob", false)

	code, body := api(t, "POST", base, viewer, `{"name":"core"}`)
	mustStatus(t, 403, code, body, "a viewer creates a circle")
	for _, tc := range []struct{ body, field string }{
		{`{"name":"a/b"}`, "name"},
		{`{"name":"` + strings.Repeat("x", 65) + `"}`, "name"},
		{`{"name":"ok","max_concurrent_tasks":101}`, "max_concurrent_tasks"},
		{`{"name":"ok","project_id":4242}`, "project_id"},
		{`{"name":"ok","description":"` + strings.Repeat("d", 5001) + `"}`, "description"},
		{`{"name":"ok","colour":"red"}`, "colour"},
	} {
		code, body = api(t, "POST", base, member, tc.body)
		mustStatus(t, 422, code, body, "an invalid circle")
		wantProblemField(t, body, tc.field)
	}
	resp, body := post(t, "POST", base, member, `{"name":"Core-1","description":"The core team","auto_route":true}`)
	mustStatus(t, 201, resp.StatusCode, body, "create a circle")
	created := decodeAs[CircleDetailResponse](t, body)
	if resp.Header.Get("Location") != "/circles/Core-1" || created.Status != "stopped" || created.MaxConcurrentTasks != 5 ||
		!created.AutoRoute || created.RequireReview || len(created.Members) != 0 || len(created.TaskCounts) != 6 || created.CreatedBy == 0 {
		t.Fatalf("created %s (Location %q)", body, resp.Header.Get("Location"))
	}
	code, body = api(t, "POST", base, member, `{"name":"core-1"}`)
	mustStatus(t, 409, code, body, "a taken name in another case")

	url := base + "/Core-1"
	code, body = api(t, "POST", url+"/agents", member, `{"agent_id":`+ada+`}`)
	mustStatus(t, 201, code, body, "add ada")
	if m := decodeAs[CircleMemberResponse](t, body); !m.CanReview || len(m.Competencies) != 1 || m.Competencies[0] != "go" {
		t.Errorf("ada joined with the agent's own settings? %s", body)
	}
	code, body = api(t, "POST", url+"/agents", member, `{"agent_id":`+bob+`,"competencies":["sql","ops"],"can_review":true}`)
	mustStatus(t, 201, code, body, "add bob")
	code, body = api(t, "POST", url+"/agents", member, `{"agent_id":`+ada+`}`)
	mustStatus(t, 409, code, body, "add ada again")
	code, body = api(t, "POST", url+"/agents", member, `{"agent_id":4242}`)
	mustStatus(t, 422, code, body, "add a missing agent")
	wantProblemField(t, body, "agent_id")
	code, body = api(t, "POST", url+"/agents", member, `{"agent_id":`+bob+`,"competencies":["`+strings.Repeat("c", 51)+`"]}`)
	mustStatus(t, 422, code, body, "a long competency")
	wantProblemField(t, body, "competencies/0")

	code, body = api(t, "GET", url, viewer, "")
	mustStatus(t, 200, code, body, "get the circle")
	d := decodeAs[CircleDetailResponse](t, body)
	if len(d.Members) != 2 || d.Members[0].AgentName != "ada" || d.Members[0].PersonaName == "" || d.Members[0].Model != "fake-1" ||
		d.Members[1].Competencies[1] != "ops" || !d.Members[1].CanReview {
		t.Errorf("detail %s", body)
	}
	code, body = api(t, "PATCH", url, member, `{"require_review":true,"max_concurrent_tasks":2,"description":""}`)
	mustStatus(t, 200, code, body, "patch")
	if c := decodeAs[CircleResponse](t, body); !c.RequireReview || c.MaxConcurrentTasks != 2 || c.Description != "" || !c.AutoRoute {
		t.Errorf("patched %s", body)
	}
	code, body = api(t, "PATCH", url, member, `{"max_concurrent_tasks":0}`)
	mustStatus(t, 422, code, body, "patch a limit of 0")
	code, body = api(t, "POST", url+"/start", member, "")
	if mustStatus(t, 200, code, body, "start"); decodeAs[CircleResponse](t, body).Status != "running" {
		t.Errorf("started %s", body)
	}
	code, body = api(t, "POST", url+"/start", member, "")
	mustStatus(t, 409, code, body, "start a running circle")
	code, body = api(t, "POST", url+"/stop", member, "")
	mustStatus(t, 200, code, body, "stop")
	code, body = api(t, "GET", base+"?status=stopped", viewer, "")
	if l := decodeList[CircleResponse](t, body); code != 200 || l.Total != 1 || l.Items[0].Name != "Core-1" {
		t.Errorf("list of stopped circles: %d %s", code, body)
	}
	code, body = api(t, "GET", base+"?status=paused", viewer, "")
	mustStatus(t, 422, code, body, "an unknown status")

	code, body = api(t, "DELETE", url+"/agents/"+bob, member, "")
	mustStatus(t, 204, code, body, "remove bob")
	code, body = api(t, "DELETE", url+"/agents/"+bob, member, "")
	mustStatus(t, 404, code, body, "remove bob again")
	code, body = api(t, "DELETE", url, member, "")
	mustStatus(t, 204, code, body, "delete")
	code, body = api(t, "GET", url, viewer, "")
	mustStatus(t, 404, code, body, "a deleted circle")
}

// TestCircleReviewLoop: submit → in review → reject with a reason → in
// progress with the feedback → submit → approve → completed; the assignee
// cannot review their own task.
func TestCircleReviewLoop(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	worker := circleAgent(t, s, "worker", true, "go")
	reviewer := circleAgent(t, s, "reviewer", true)
	url := s.srv.URL + "/circles/team"
	code, body := api(t, "POST", s.srv.URL+"/circles", member, `{"name":"team","require_review":true}`)
	mustStatus(t, 201, code, body, "create")
	for _, id := range []string{worker, reviewer} {
		code, body = api(t, "POST", url+"/agents", member, `{"agent_id":`+id+`}`)
		mustStatus(t, 201, code, body, "add a member")
	}
	for _, tc := range []struct{ body, field string }{
		{`{"title":"t","priority":"urgent"}`, "priority"},
		{`{"title":"t","priority":11}`, "priority"},
		{`{"title":"` + strings.Repeat("t", 201) + `"}`, "title"},
		{`{"title":"t","description":"` + strings.Repeat("d", 20001) + `"}`, "description"},
		{`{"title":"t","required_competencies":[` + strings.Repeat(`"go",`, 20) + `"go"]}`, "required_competencies"},
	} {
		code, body = api(t, "POST", url+"/tasks", member, tc.body)
		mustStatus(t, 422, code, body, "an invalid task")
		wantProblemField(t, body, tc.field)
	}
	resp, body := post(t, "POST", url+"/tasks", member, `{"title":"Parser","description":"Write it.","required_competencies":["go"],"priority":"high"}`)
	mustStatus(t, 201, resp.StatusCode, body, "create a task")
	task := decodeAs[CircleTaskResponse](t, body)
	taskURL := url + "/tasks/" + strconv.FormatInt(task.ID, 10)
	if task.Status != "pending" || task.Priority != 7 || resp.Header.Get("Location") != strings.TrimPrefix(taskURL, s.srv.URL) {
		t.Fatalf("created %s (Location %q)", body, resp.Header.Get("Location"))
	}
	code, body = api(t, "POST", taskURL+"/submit", member, `{"result":"early"}`)
	mustStatus(t, 409, code, body, "submit a pending task")
	code, body = api(t, "POST", taskURL+"/assign", member, `{"agent_id":`+worker+`}`)
	mustStatus(t, 200, code, body, "assign")
	step := func(op, payload, status string) CircleTaskResponse {
		t.Helper()
		code, body := api(t, "POST", taskURL+"/"+op, member, payload)
		mustStatus(t, 200, code, body, op)
		got := decodeAs[CircleTaskResponse](t, body)
		if got.Status != status {
			t.Fatalf("%s: %s, want %s", op, body, status)
		}
		return got
	}
	review := step("submit", `{"result":"v1","files_modified":["src/parser.go"]}`, "in_review")
	if strconv.FormatInt(review.ReviewerID, 10) != reviewer || review.Result != "v1" || review.FilesModified[0] != "src/parser.go" {
		t.Errorf("in review %+v", review)
	}
	code, body = api(t, "POST", taskURL+"/approve", member, `{"reviewer_id":`+worker+`}`)
	mustStatus(t, 422, code, body, "the assignee approves their own task")
	if wantProblemField(t, body, "reviewer_id"); !strings.Contains(body, "a member cannot review their own task") {
		t.Errorf("422 does not say why: %s", body)
	}
	code, body = api(t, "POST", taskURL+"/reject", member, `{"reviewer_id":`+reviewer+`}`)
	mustStatus(t, 422, code, body, "a rejection without a reason")
	wantProblemField(t, body, "reason")
	back := step("reject", `{"reviewer_id":`+reviewer+`,"reason":"Add tests."}`, "in_progress")
	if back.Feedback != "Add tests." || back.BackgroundTaskID != "" {
		t.Errorf("rejected %+v; the circle is stopped, no work starts", back)
	}
	step("submit", `{"result":"v2 with tests"}`, "in_review")
	done := step("approve", `{"reviewer_id":`+reviewer+`,"comments":"Good."}`, "completed")
	if done.Result != "v2 with tests" || done.CompletedAt.IsZero() {
		t.Errorf("completed %+v", done)
	}
	code, body = api(t, "POST", taskURL+"/approve", member, `{"reviewer_id":`+reviewer+`}`)
	mustStatus(t, 409, code, body, "approve a completed task")
	code, body = api(t, "GET", taskURL, viewer, "")
	mustStatus(t, 200, code, body, "get the task")
	if d := decodeAs[CircleTaskDetailResponse](t, body); len(d.Reviews) != 2 || d.Reviews[0].Approved || d.Reviews[0].Comment != "Add tests." ||
		!d.Reviews[1].Approved {
		t.Errorf("reviews %s", body)
	}
	code, body = api(t, "GET", url+"/tasks?status=completed", viewer, "")
	if l := decodeList[CircleTaskResponse](t, body); code != 200 || l.Total != 1 {
		t.Errorf("completed tasks: %d %s", code, body)
	}
	code, body = api(t, "GET", url+"/tasks?status=sleeping", viewer, "")
	mustStatus(t, 422, code, body, "an unknown task status")
	code, body = api(t, "GET", url+"/tasks/424242", viewer, "")
	mustStatus(t, 404, code, body, "a missing task")
	code, body = api(t, "GET", url+"/metrics", viewer, "")
	mustStatus(t, 200, code, body, "metrics")
	m := decodeAs[CircleMetricsResponse](t, body)
	if len(m.Members) != 2 || m.Members[0].TasksCompleted != 1 || m.Members[0].Reviews != 2 || m.Members[0].ApprovalRate == nil ||
		*m.Members[0].ApprovalRate != 0.5 || m.Members[1].ApprovalRate != nil || !strings.Contains(body, `"approval_rate":null`) {
		t.Errorf("metrics %s", body)
	}
}

// TestCircleWorkOverHTTP: in a running circle, a new task starts a real
// background task of its assignee (an agent on the fake provider), whose
// completion submits it; the conflicts of two members' submissions are
// listed and resolved; the metrics show the tokens of the chat turns.
func TestCircleWorkOverHTTP(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	fake := openaitest.New(t)
	ada := strconv.FormatInt(fakeAgent(t, s, fake.URL), 10)
	bob := circleAgent(t, s, "bob", true, "review")
	url := s.srv.URL + "/circles/live"
	code, body := api(t, "POST", s.srv.URL+"/circles", member, `{"name":"live","auto_route":true,"require_review":true}`)
	mustStatus(t, 201, code, body, "create")
	code, body = api(t, "POST", url+"/agents", member, `{"agent_id":`+ada+`,"competencies":["go"]}`)
	mustStatus(t, 201, code, body, "add ada")
	code, body = api(t, "POST", url+"/agents", member, `{"agent_id":`+bob+`}`)
	mustStatus(t, 201, code, body, "add bob")
	code, body = api(t, "POST", url+"/start", member, "")
	mustStatus(t, 200, code, body, "start")

	fake.Push(openaitest.Reply{Content: "TASK COMPLETE\nParsed.", Usage: llm.Usage{InputTokens: 1000, OutputTokens: 500}})
	code, body = api(t, "POST", url+"/tasks", member, `{"title":"Parse","required_competencies":["go"]}`)
	mustStatus(t, 201, code, body, "create a task")
	task := decodeAs[CircleTaskResponse](t, body)
	if task.Status != "in_progress" || strconv.FormatInt(task.AssignedAgentID, 10) != ada || task.BackgroundTaskID == "" {
		t.Fatalf("created %s; want in progress for ada with a background task", body)
	}
	taskURL := url + "/tasks/" + strconv.FormatInt(task.ID, 10)
	var got CircleTaskResponse
	within(t, 15*time.Second, "the task is submitted", func() bool {
		_, body = api(t, "GET", taskURL, viewer, "")
		got = decodeAs[CircleTaskResponse](t, body)
		return got.Status == "in_review"
	})
	if got.Result != "Parsed." || strconv.FormatInt(got.ReviewerID, 10) != bob {
		t.Errorf("submitted %+v", got)
	}
	bg := awaitTask(t, s, viewer, task.BackgroundTaskID, func(d TaskDetailResponse) bool { return d.Status == "completed" })
	if !strings.Contains(bg.Goal, "Parse") || strconv.FormatInt(bg.AgentID, 10) != ada {
		t.Errorf("background task %+v", bg.TaskResponse)
	}
	code, body = api(t, "POST", url+"/stop", member, "")
	mustStatus(t, 200, code, body, "stop")
	code, body = api(t, "POST", url+"/tasks", member, `{"title":"Review","required_competencies":["review"]}`)
	mustStatus(t, 201, code, body, "a task for bob")
	second := decodeAs[CircleTaskResponse](t, body)
	code, body = api(t, "POST", url+"/tasks/"+strconv.FormatInt(second.ID, 10)+"/submit", member, `{"result":"ok","files_modified":["src/main.go"]}`)
	mustStatus(t, 200, code, body, "bob submits")
	code, body = api(t, "POST", taskURL+"/reject", member, `{"reviewer_id":`+bob+`,"reason":"Touch main.go too."}`)
	mustStatus(t, 200, code, body, "reject ada's work")
	code, body = api(t, "POST", taskURL+"/submit", member, `{"result":"v2","files_modified":["./src/main.go"]}`)
	mustStatus(t, 200, code, body, "ada submits main.go")

	code, body = api(t, "GET", url+"/conflicts?status=open", viewer, "")
	l := decodeList[CircleConflictResponse](t, body)
	if code != 200 || l.Total != 1 || l.Items[0].Path != "src/main.go" || l.Items[0].Status != "open" {
		t.Fatalf("open conflicts: %d %s", code, body)
	}
	resolve := url + "/conflicts/" + strconv.FormatInt(l.Items[0].ID, 10) + "/resolve"
	code, body = api(t, "POST", resolve, member, `{"resolution":"Ada merges."}`)
	if mustStatus(t, 200, code, body, "resolve"); decodeAs[CircleConflictResponse](t, body).Status != "resolved" {
		t.Errorf("resolved %s", body)
	}
	code, body = api(t, "POST", resolve, member, `{}`)
	mustStatus(t, 409, code, body, "resolve again")
	code, body = api(t, "GET", url+"/conflicts?status=resolved", viewer, "")
	if l := decodeList[CircleConflictResponse](t, body); code != 200 || l.Total != 1 {
		t.Errorf("resolved conflicts: %d %s", code, body)
	}
	code, body = api(t, "GET", url+"/conflicts?status=maybe", viewer, "")
	mustStatus(t, 422, code, body, "an unknown conflict status")

	code, body = api(t, "GET", url+"/metrics", viewer, "")
	mustStatus(t, 200, code, body, "metrics")
	m := decodeAs[CircleMetricsResponse](t, body)
	if len(m.Members) != 2 || m.Members[0].InputTokens != 1000 || m.Members[0].OutputTokens != 500 || m.Members[0].Cost <= 0 ||
		m.Members[0].Workload != 1 || m.Members[1].InputTokens != 0 {
		t.Errorf("metrics %s", body)
	}
}

// BenchmarkCircleDetailHTTP is GET /circles/{name} of a circle of 200
// members on SQLite, through the whole HTTP stack over loopback:
//
//	go test -run '^$' -bench CircleDetailHTTP ./internal/httpapi/
func BenchmarkCircleDetailHTTP(b *testing.B) {
	s := newSetup(b, Options{})
	token := benchToken(b, s)
	ctx, now := b.Context(), time.Now()
	c, err := s.store.CircleCreate(ctx, store.Circle{Name: "bench", MaxConcurrentTasks: 5, Status: store.CircleStopped, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 200 {
		a, err := s.store.AgentCreate(ctx, store.Agent{Name: "agent-" + strconv.Itoa(i), PersonaID: 1, Provider: "p", Model: "m", CreatedAt: now, UpdatedAt: now})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.store.CircleMemberAdd(ctx, store.CircleMember{CircleID: c.ID, AgentID: a.ID, Competencies: []string{"go"}, JoinedAt: now}, 200); err != nil {
			b.Fatal(err)
		}
	}
	req, _ := http.NewRequest("GET", s.srv.URL+"/circles/bench", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
