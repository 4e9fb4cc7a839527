package servertools_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/agent/agenttest"
	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/circle"
	"github.com/gathering/gathering/internal/engine"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/goal"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/scheduler"
	"github.com/gathering/gathering/internal/servertools"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
	"github.com/gathering/gathering/internal/tool"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rig is a store with two agents on a fake provider — Alice with the
// gathering skill, Bob without — a member and a viewer, and the services
// the gathering tools act through, registered in the executor.
type rig struct {
	db             store.Store
	fake           *openaitest.Server
	exec           *tool.Executor
	agents         *agent.Service
	circles        *circle.Service
	goals          *goal.Service
	alice, bob     int64
	member, viewer int64
}

// newRig builds a rig on a fresh SQLite store, with a circle "core" that
// routes its tasks and has Alice as a member (competent in go); its
// services stop when the test ends.
func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{db: storetest.SQLite(t), fake: openaitest.New(t)}
	bus := event.NewBus(event.Config{Instance: "test"})
	reg := tool.NewRegistry()
	r.exec = tool.NewExecutor(reg, r.db, bus, tool.ExecutorOptions{Instance: "test", Exclusive: true})
	r.agents = agenttest.NewService(t, r.db, r.exec, nil)
	tasks := background.New(r.db, r.agents, bus, background.Options{Instance: "test", Lease: 3 * time.Second})
	pipelines := engine.New(r.db, r.exec, r.agents, bus, engine.Options{Instance: "test"})
	r.circles = circle.New(r.db, tasks, bus, circle.Options{})
	r.goals = goal.New(r.db, bus, goal.Options{})
	sched := scheduler.New(r.db, pipelines, tasks, r.exec, bus, scheduler.Options{Instance: "test", Lease: 3 * time.Second})
	for _, tl := range servertools.Tools(servertools.Deps{Users: r.db, Pipelines: pipelines, Scheduler: sched, Circles: r.circles, Goals: r.goals}) {
		if err := reg.Register(tl); err != nil {
			t.Fatal(err)
		}
	}
	agenttest.Start(t, bus, r.exec, tasks, r.circles)
	agenttest.Seed(t, r.db, r.fake.URL)
	r.alice = agenttest.Agent(t, r.db, store.Agent{Name: "Alice"}, servertools.Skill)
	r.bob = agenttest.Agent(t, r.db, store.Agent{Name: "Bob"}, "calc")
	r.member = agenttest.User(t, r.db, "member", gathering.RoleMember)
	r.viewer = agenttest.User(t, r.db, "viewer", gathering.RoleViewer)
	if _, err := r.circles.Create(t.Context(), circle.NewCircle{Name: "core", AutoRoute: true, MaxConcurrentTasks: 5, CreatedBy: r.member}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.circles.AddMember(t.Context(), "core", circle.NewMember{AgentID: r.alice, Competencies: []string{"go"}}); err != nil {
		t.Fatal(err)
	}
	return r
}

// call runs a gathering tool as an agent with the given skills would,
// for user.
func (r *rig) call(t *testing.T, name string, agentID, user int64, skills []string, input string) (json.RawMessage, error) {
	t.Helper()
	e, err := r.exec.Execute(t.Context(), tool.Request{Tool: name, Input: json.RawMessage(input),
		Caller: tool.AgentCaller(skills...), UserID: user, AgentID: agentID})
	return e.Output, err
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if gathering.ErrorCode(err) != code {
		t.Fatalf("%s: error %v, want %s", what, err, code)
	}
}

func TestAnAgentTurnCreatesACircleTask(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	args := `{"circle":"core","title":"Write the parser","required_competencies":["go"],"priority":"high"}`
	r.fake.Push(openaitest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "gathering__circle_task_create", Arguments: json.RawMessage(args)}}},
		openaitest.Reply{Content: "Created it."})
	res, err := r.agents.Chat(t.Context(), agent.ChatRequest{AgentID: r.alice, UserID: r.member, Message: "Plan the parser.", AllowTools: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ToolResults) != 1 || res.ToolResults[0].Status != string(store.ToolSucceeded) {
		t.Fatalf("tool results: %+v", res.ToolResults)
	}
	tasks, total, err := r.circles.Tasks(t.Context(), "core", "", store.Page{Limit: 10})
	if err != nil || total != 1 {
		t.Fatalf("tasks: %d, %v", total, err)
	}
	if got := tasks[0]; got.Title != "Write the parser" || got.Priority != 7 || got.AssignedAgentID != r.alice || got.CreatedBy != r.member {
		t.Fatalf("task: %+v", got)
	}
}

func TestSkillsAndRolesBoundTheTools(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.fake.Push(openaitest.Reply{Content: "Nothing to do."})
	if _, err := r.agents.Chat(t.Context(), agent.ChatRequest{AgentID: r.bob, UserID: r.member, Message: "Hello.", AllowTools: true}); err != nil {
		t.Fatal(err)
	}
	if body := string(r.fake.Requests()[0].Raw); strings.Contains(body, "gathering__") {
		t.Fatalf("Bob, without the gathering skill, was offered its tools: %s", body)
	}
	task := `{"circle":"core","title":"T"}`
	_, err := r.call(t, "gathering.circle_task_create", r.bob, r.member, []string{"calc"}, task)
	wantCode(t, "an agent without the skill", err, gathering.EFORBIDDEN)
	_, err = r.call(t, "gathering.circle_task_create", r.alice, r.viewer, []string{servertools.Skill}, task)
	wantCode(t, "acting for a viewer", err, gathering.EFORBIDDEN)
	_, err = r.call(t, "gathering.circle_task_create", r.bob, r.member, []string{servertools.Skill}, task)
	wantCode(t, "an agent outside the circle", err, gathering.EFORBIDDEN)
	_, err = r.call(t, "gathering.circle_task_create", r.alice, r.member, []string{servertools.Skill}, `{"circle":"core","title":"T","priority":11}`)
	wantCode(t, "a priority out of range", err, gathering.EINVALID)
	_, err = r.call(t, "gathering.circle_task_create", r.alice, r.member, []string{servertools.Skill}, `{"circle":"nowhere","title":"T"}`)
	wantCode(t, "an unknown circle", err, gathering.ENOTFOUND)
	if _, total, _ := r.circles.Tasks(t.Context(), "core", "", store.Page{Limit: 10}); total != 0 {
		t.Fatalf("%d tasks created by refused calls", total)
	}
}

func TestGoalUpdates(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	g, err := r.goals.Create(t.Context(), goal.Actor{UserID: r.member}, goal.NewGoal{AgentID: r.alice, Title: "Ship", Description: "Ship v2"})
	if err != nil {
		t.Fatal(err)
	}
	skill := []string{servertools.Skill}
	id := fmt.Sprint(g.ID)
	_, err = r.call(t, "gathering.goal_update", r.bob, r.member, skill, `{"goal_id":`+id+`,"progress":10}`)
	wantCode(t, "another agent's goal", err, gathering.EFORBIDDEN)
	out, err := r.call(t, "gathering.goal_update", r.alice, r.member, skill, `{"goal_id":`+id+`,"action":"start","progress":40,"message":"parser done"}`)
	if err != nil || string(out) != `{"goal_id":`+id+`,"progress":40,"status":"active"}` {
		t.Fatalf("progress and start: %s, %v", out, err)
	}
	_, err = r.call(t, "gathering.goal_update", r.alice, r.member, skill, `{"goal_id":`+id+`,"action":"resume"}`)
	wantCode(t, "resuming an active goal", err, gathering.ECONFLICT)
	out, err = r.call(t, "gathering.goal_update", r.alice, r.member, skill, `{"goal_id":`+id+`,"action":"complete","message":"shipped"}`)
	if err != nil || string(out) != `{"goal_id":`+id+`,"progress":100,"status":"completed"}` {
		t.Fatalf("complete: %s, %v", out, err)
	}
	got, err := r.goals.Get(t.Context(), g.ID)
	if err != nil || got.ResultSummary != "shipped" {
		t.Fatalf("stored goal: %+v, %v", got.Goal, err)
	}
	_, err = r.call(t, "gathering.goal_update", r.alice, r.member, skill, `{"goal_id":`+id+`}`)
	wantCode(t, "neither action nor progress", err, gathering.EINVALID)
}

func TestPipelineRunsAndSchedules(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	now := time.Now()
	p, err := r.db.PipelineCreate(t.Context(), store.Pipeline{Name: "wait", Status: store.PipelineActive,
		Nodes: json.RawMessage(`[{"id":"w","type":"delay","config":{"seconds":1}}]`), Edges: json.RawMessage(`[]`),
		Settings: json.RawMessage(`{}`), CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	skill := []string{servertools.Skill}
	out, err := r.call(t, "gathering.pipeline_run", r.alice, r.member, skill, fmt.Sprintf(`{"pipeline_id":%d,"trigger_data":{"k":1}}`, p.ID))
	if err != nil {
		t.Fatal(err)
	}
	var run struct {
		RunID string `json:"run_id"`
	}
	if err := json.Unmarshal(out, &run); err != nil {
		t.Fatal(err)
	}
	stored, err := r.db.RunGet(t.Context(), run.RunID)
	if err != nil || stored.CreatedBy != r.member || string(stored.TriggerData) != `{"k":1}` {
		t.Fatalf("run: %+v, %v", stored, err)
	}
	_, err = r.call(t, "gathering.pipeline_run", r.alice, r.member, skill, `{"pipeline_id":999}`)
	wantCode(t, "an unknown pipeline", err, gathering.ENOTFOUND)

	out, err = r.call(t, "gathering.schedule_create", r.alice, r.member, skill,
		`{"name":"nightly","action_type":"run_task","action_config":{"goal":"Tidy the backlog"},"schedule_type":"cron","cron_expression":"0 3 * * *"}`)
	if err != nil {
		t.Fatal(err)
	}
	var act struct{ ID int64 }
	_ = json.Unmarshal(out, &act)
	a, err := r.db.ActionGet(t.Context(), act.ID)
	if err != nil || a.AgentID != r.alice || a.CreatedBy != r.member || a.NextRunAt.IsZero() {
		t.Fatalf("action: %+v, %v", a, err)
	}
	_, err = r.call(t, "gathering.schedule_create", r.alice, r.member, skill,
		`{"name":"bad","action_type":"run_task","action_config":{"goal":"x"},"schedule_type":"cron","cron_expression":"every day"}`)
	if e, ok := err.(*gathering.Error); !ok || e.Code != gathering.EINVALID || !slices.ContainsFunc(e.Fields, func(f gathering.FieldError) bool { return f.Field == "cron_expression" }) {
		t.Fatalf("bad cron: %v", err)
	}
}
