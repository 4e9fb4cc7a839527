package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// testTools is the registry every API test serves: an echo with a closed
// schema, a slow async tool, a dangerous one and an admin one. bodyRuns
// counts the runs of their bodies.
func testTools(t testing.TB) (reg *tool.Registry, bodyRuns *atomic.Int64) {
	t.Helper()
	bodyRuns = &atomic.Int64{}
	echo := func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		bodyRuns.Add(1)
		return in, nil
	}
	slow := func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		bodyRuns.Add(1)
		select {
		case <-time.After(5 * time.Second):
			return json.RawMessage(`{}`), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	const schema = `{"type":"object","properties":{"text":{"type":"string","maxLength":10},"n":{"type":"integer","minimum":1},"mode":{"enum":["a","b"]},"api_key":{"type":"string"}},"required":["text"],"additionalProperties":false}`
	reg = tool.NewRegistry()
	for _, tl := range []tool.Tool{
		{Name: "test.echo", Description: "Echoes its input.", Input: json.RawMessage(schema), Run: echo},
		{Name: "test.slow", Description: "Takes five seconds.", Input: json.RawMessage(`{"type":"object"}`), Async: true, Run: slow},
		{Name: "test.wait", Description: "Answers after a second.", Input: json.RawMessage(`{"type":"object"}`), Timeout: 5 * time.Second, Run: func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
			time.Sleep(time.Second)
			return json.RawMessage(`{"waited":true}`), nil
		}},
		{Name: "danger.wipe", Description: "Needs a confirmation.", Input: json.RawMessage(`{"type":"object"}`), Dangerous: true, Permissions: []tool.Permission{tool.PermFSWrite}, Run: echo},
		{Name: "root.users", Description: "For administrators.", Input: json.RawMessage(`{"type":"object"}`), Permissions: []tool.Permission{tool.PermAdmin}, Run: echo},
	} {
		if err := reg.Register(tl); err != nil {
			t.Fatal(err)
		}
	}
	return reg, bodyRuns
}

func decodeExecution(t *testing.T, body string) tool.Execution {
	t.Helper()
	var e tool.Execution
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.ID == "" {
		t.Fatalf("not an execution: %s", body)
	}
	return e
}

func TestToolCatalog(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	viewer := callers(t, s)[1].token
	code, body := api(t, "GET", s.srv.URL+"/tools?skill=test", viewer, "")
	mustStatus(t, 200, code, body, "list tools")
	tools := decodeList[ToolResponse](t, body)
	if tools.Total != 3 || tools.Items[0].Name != "test.echo" || !json.Valid(tools.Items[0].InputSchema) || !tools.Items[0].Available {
		t.Fatalf("tools of skill test: %s", body)
	}
	code, body = api(t, "GET", s.srv.URL+"/tools?permission=admin", viewer, "")
	if code != 200 || decodeList[ToolResponse](t, body).Items[0].Name != "root.users" {
		t.Fatalf("tools needing admin: %d %s", code, body)
	}
	code, body = api(t, "GET", s.srv.URL+"/tools?permission=root", viewer, "")
	mustStatus(t, 422, code, body, "unknown permission")
	code, body = api(t, "GET", s.srv.URL+"/tools/danger.wipe", viewer, "")
	if code != 200 || !strings.Contains(body, `"dangerous":true`) {
		t.Fatalf("one tool: %d %s", code, body)
	}
	code, body = api(t, "GET", s.srv.URL+"/tools/no.such", viewer, "")
	mustStatus(t, 404, code, body, "unknown tool")
	code, body = api(t, "GET", s.srv.URL+"/tools/skills", viewer, "")
	if skills := decodeList[SkillResponse](t, body); code != 200 || skills.Total != 5 || skills.Items[0].Name != "danger" || !skills.Items[0].IsDangerous {
		t.Fatalf("skills: %d %s", code, body)
	}
}

// TestValidationSameOverHTTPAndInProcess sends invalid inputs through the
// API and through the executor agents and pipelines use: the same 422 field
// errors, and the tool body never runs.
func TestValidationSameOverHTTPAndInProcess(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	member := callers(t, s)[2].token
	before := s.toolRuns.Load()
	for _, in := range []string{`{}`, `{"text":5}`, `{"text":"far too long for ten"}`, `{"text":"a","extra":1}`, `{"text":"a","mode":"c","n":0}`} {
		code, body := api(t, "POST", s.srv.URL+"/tools/test.echo/execute", member, `{"input":`+in+`}`)
		mustStatus(t, 422, code, body, in)
		var problem struct{ Errors []gathering.FieldError }
		if err := json.Unmarshal([]byte(body), &problem); err != nil {
			t.Fatal(err)
		}
		_, err := s.api.tools.Execute(t.Context(), tool.Request{Tool: "test.echo", Input: json.RawMessage(in), Caller: tool.UserCaller(gathering.RoleMember)})
		if !slices.Equal(problem.Errors, gathering.ErrorFields(err)) || len(problem.Errors) == 0 {
			t.Errorf("%s: HTTP %v, in process %v", in, problem.Errors, gathering.ErrorFields(err))
		}
	}
	code, body := api(t, "POST", s.srv.URL+"/tools/test.echo/execute", member, `{"input":{"text":"a","mode":"c","n":0}}`)
	if code != 422 || !strings.Contains(body, `"/mode"`) || !strings.Contains(body, `"/n"`) {
		t.Fatalf("several violations: %s", body)
	}
	if n := s.toolRuns.Load() - before; n != 0 {
		t.Fatalf("the tool body ran %d times", n)
	}
}

func TestExecuteAndFollow(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member, admin := cs[1].token, cs[2].token, cs[3].token
	code, body := api(t, "POST", s.srv.URL+"/tools/test.echo/execute", viewer, `{"input":{"text":"hi","api_key":"k"}}`)
	mustStatus(t, 200, code, body, "sync call")
	if e := decodeExecution(t, body); e.Status != store.ToolSucceeded || string(e.Output) != `{"text":"hi","api_key":"k"}` || !strings.Contains(string(e.Input), tool.Redacted) {
		t.Fatalf("sync execution: %s", body)
	}
	code, body = api(t, "POST", s.srv.URL+"/tools/root.users/execute", member, `{}`)
	mustStatus(t, 403, code, body, "admin tool as member")

	code, body = api(t, "POST", s.srv.URL+"/tools/test.slow/execute", member, `{"input":{}}`)
	mustStatus(t, 202, code, body, "async call")
	slow := decodeExecution(t, body)
	code, body = api(t, "GET", s.srv.URL+"/tools/executions/"+slow.ID, viewer, "")
	mustStatus(t, 404, code, body, "someone else's execution")
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	code, body = api(t, "POST", s.srv.URL+"/tools/executions/"+slow.ID+"/cancel", member, "")
	mustStatus(t, 200, code, body, "cancel")
	if e := decodeExecution(t, body); e.Status != store.ToolCancelled || time.Since(start) > time.Second {
		t.Fatalf("cancel after %s: %s", time.Since(start), body)
	}
	code, body = api(t, "POST", s.srv.URL+"/tools/executions/"+slow.ID+"/cancel", member, "")
	mustStatus(t, 409, code, body, "cancel twice")

	code, body = api(t, "GET", s.srv.URL+"/tools/executions?tool=test.slow", member, "")
	if list := decodeList[tool.Execution](t, body); code != 200 || list.Total != 1 || list.Items[0].Status != store.ToolCancelled {
		t.Fatalf("member's executions: %s", body)
	}
	code, body = api(t, "GET", s.srv.URL+"/tools/executions", viewer, "")
	if list := decodeList[tool.Execution](t, body); code != 200 || list.Total != 1 {
		t.Fatalf("viewer's executions: %s", body)
	}
	code, body = api(t, "GET", s.srv.URL+"/tools/executions?status=succeeded", admin, "")
	if list := decodeList[tool.Execution](t, body); code != 200 || list.Total != 1 {
		t.Fatalf("admin sees everyone's: %s", body)
	}
	code, body = api(t, "GET", s.srv.URL+"/tools/executions?status=done", admin, "")
	mustStatus(t, 422, code, body, "unknown status")
}

func TestDangerousCallsOverHTTP(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	member, admin := cs[2].token, cs[3].token
	start := func() tool.Execution {
		code, body := api(t, "POST", s.srv.URL+"/tools/danger.wipe/execute", member, `{"input":{"all":true}}`)
		mustStatus(t, 202, code, body, "dangerous call")
		e := decodeExecution(t, body)
		if e.Status != store.ToolAwaitingConfirmation || e.ExpiresAt == nil {
			t.Fatalf("dangerous call: %s", body)
		}
		return e
	}
	confirmed := start()
	code, body := api(t, "POST", s.srv.URL+"/tools/executions/"+confirmed.ID+"/confirm", admin, "")
	mustStatus(t, 200, code, body, "confirm")
	waitStatus(t, s, confirmed.ID, store.ToolSucceeded)

	denied := start()
	code, body = api(t, "POST", s.srv.URL+"/tools/executions/"+denied.ID+"/deny", member, "")
	mustStatus(t, 200, code, body, "deny")
	if e := decodeExecution(t, body); e.Status != store.ToolCancelled || e.Reason != "denied" {
		t.Fatalf("denied: %s", body)
	}
	code, body = api(t, "POST", s.srv.URL+"/tools/executions/"+denied.ID+"/confirm", member, "")
	mustStatus(t, 409, code, body, "confirm after deny")
}

func waitStatus(t *testing.T, s setup, id string, want store.ToolExecutionStatus) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		e, err := s.store.ToolExecutionGet(t.Context(), id)
		if err == nil && e.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s is %s, want %s", id, e.Status, want)
		}
	}
}

func TestAgentSkills(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member, admin := cs[1].token, cs[2].token, cs[3].token
	now := time.Now()
	ag, err := s.store.AgentCreate(t.Context(), store.Agent{Name: "Skilled", PersonaID: 1, Provider: "openai", Model: "gpt-4o", CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(ag.ID, 10)
	base := s.srv.URL + "/tools/agents/" + id
	code, body := api(t, "PATCH", base+"/skills/test", member, `{"is_enabled":true}`)
	mustStatus(t, 200, code, body, "enable")
	code, body = api(t, "GET", base+"/enabled", viewer, "")
	if code != 200 || !strings.Contains(body, `"enabled_skills":["test"]`) {
		t.Fatalf("enabled: %s", body)
	}
	code, body = api(t, "POST", s.srv.URL+"/tools/test.echo/execute", member, `{"input":{"text":"a"},"agent_id":`+id+`}`)
	mustStatus(t, 200, code, body, "agent calls an enabled skill")
	if e := decodeExecution(t, body); e.AgentID != ag.ID {
		t.Fatalf("agent execution: %s", body)
	}
	code, body = api(t, "POST", s.srv.URL+"/tools/danger.wipe/execute", member, `{"agent_id":`+id+`}`)
	mustStatus(t, 403, code, body, "agent calls a skill it lacks")
	code, body = api(t, "POST", s.srv.URL+"/tools/test.echo/execute", viewer, `{"input":{"text":"a"},"agent_id":`+id+`}`)
	mustStatus(t, 403, code, body, "viewer acting as an agent")

	code, body = api(t, "PATCH", base+"/skills/root", member, `{"is_enabled":true}`)
	mustStatus(t, 403, code, body, "member grants an admin skill")
	code, body = api(t, "PATCH", base+"/skills/nope", member, `{"is_enabled":true}`)
	mustStatus(t, 404, code, body, "unknown skill")
	code, body = api(t, "POST", base+"/skills/bulk", member, `{"skill_names":["danger","nope"],"is_enabled":true}`)
	if code != 422 || !strings.Contains(body, "skill_names[1]") {
		t.Fatalf("bulk with an unknown skill: %d %s", code, body)
	}
	code, body = api(t, "POST", base+"/skills/enable-all", member, "")
	mustStatus(t, 200, code, body, "enable all as member")
	if !strings.Contains(body, `"enabled_skills":["danger","http","notify","test"]`) {
		t.Fatalf("a member enabled what they may grant only: %s", body)
	}
	code, body = api(t, "POST", base+"/skills/enable-all", admin, "")
	if code != 200 || !strings.Contains(body, `"enabled_skills":["danger","http","notify","root","test"]`) {
		t.Fatalf("enable all as admin: %s", body)
	}
	code, body = api(t, "GET", base, viewer, "")
	var at AgentToolsResponse
	if err := json.Unmarshal([]byte(body), &at); err != nil || code != 200 || at.EnabledCount != 5 || at.TotalCount != 5 {
		t.Fatalf("agent tools: %s", body)
	}
	code, body = api(t, "POST", base+"/skills/disable-all", member, "")
	if code != 200 || !strings.Contains(body, `"enabled_skills":[]`) {
		t.Fatalf("disable all: %s", body)
	}
	code, body = api(t, "GET", s.srv.URL+"/tools/agents/x/enabled", viewer, "")
	mustStatus(t, 404, code, body, fmt.Sprintf("agent id %q", "x"))
	code, body = api(t, "GET", s.srv.URL+"/tools/agents/99999", viewer, "")
	mustStatus(t, 404, code, body, "unknown agent")
	code, body = api(t, "POST", s.srv.URL+"/tools/test.echo/execute", member, `{"input":{"text":"a"},"agent_id":99999}`)
	mustStatus(t, 404, code, body, "calling as an unknown agent")
}

// TestSyncCallOutlastsWriteTimeout: a call answered when it ends gets the
// tool's time limit to write its response, not the server's write timeout.
func TestSyncCallOutlastsWriteTimeout(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	viewer := callers(t, s)[1].token
	srv := httptest.NewUnstartedServer(s.api)
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	code, body := api(t, "POST", srv.URL+"/tools/test.wait/execute", viewer, `{}`)
	if code != 200 || !strings.Contains(body, `"waited":true`) {
		t.Fatalf("a one-second call behind a 300 ms write timeout: %d %s", code, body)
	}
}
