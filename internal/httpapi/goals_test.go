package httpapi

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/goal"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/store"
)

// goalSetup is an API with an agent, and a viewer's and a member's keys.
type goalSetup struct {
	setup
	viewer, member string
	agentID        int64
}

func newGoalSetup(t *testing.T, llmURL string) goalSetup {
	t.Helper()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	return goalSetup{setup: s, viewer: cs[1].token, member: cs[2].token, agentID: fakeAgent(t, s, llmURL)}
}

// url is the address of a goal path.
func (g goalSetup) url(format string, args ...any) string {
	return g.srv.URL + fmt.Sprintf(format, args...)
}

// createGoal posts a goal as the member and returns it, or fails the
// test.
func (g goalSetup) createGoal(t *testing.T, body string) GoalResponse {
	t.Helper()
	resp, out := post(t, "POST", g.url("/goals"), g.member, body)
	mustStatus(t, 201, resp.StatusCode, out, "create a goal")
	got := decodeGoal(t, out)
	if resp.Header.Get("Location") != "/goals/"+strconv.FormatInt(got.ID, 10) {
		t.Errorf("Location %q for goal %d", resp.Header.Get("Location"), got.ID)
	}
	return got
}

// sub posts a sub-goal of parent titled title.
func (g goalSetup) sub(t *testing.T, parent int64, title string) GoalResponse {
	t.Helper()
	return g.createGoal(t, fmt.Sprintf(`{"agent_id":%d,"title":%q,"parent_id":%d}`, g.agentID, title, parent))
}

// act posts to a goal's action as the member and checks the status.
func (g goalSetup) act(t *testing.T, want int, id int64, action, body string) string {
	t.Helper()
	code, out := api(t, "POST", g.url("/goals/%d/%s", id, action), g.member, body)
	mustStatus(t, want, code, out, action+" goal "+strconv.FormatInt(id, 10))
	return out
}

// detail reads a goal's detail as the viewer.
func (g goalSetup) detail(t *testing.T, id int64) GoalDetailResponse {
	t.Helper()
	code, out := api(t, "GET", g.url("/goals/%d", id), g.viewer, "")
	mustStatus(t, 200, code, out, "get a goal")
	var d GoalDetailResponse
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func decodeGoal(t *testing.T, body string) GoalResponse {
	t.Helper()
	var g GoalResponse
	if err := json.Unmarshal([]byte(body), &g); err != nil {
		t.Fatalf("goal %s: %v", body, err)
	}
	return g
}

// titles prints a tree as title(children,…).
func titles(n GoalTreeNode) string {
	if len(n.Subgoals) == 0 {
		return n.Title
	}
	var kids []string
	for _, s := range n.Subgoals {
		kids = append(kids, titles(s))
	}
	return n.Title + "(" + strings.Join(kids, ",") + ")"
}

func TestGoalHierarchyAndRollup(t *testing.T) {
	t.Parallel()
	g := newGoalSetup(t, "http://127.0.0.1:1")
	code, out := api(t, "POST", g.url("/goals"), g.viewer, fmt.Sprintf(`{"agent_id":%d,"title":"x"}`, g.agentID))
	mustStatus(t, 403, code, out, "a viewer creates a goal")
	parent := g.createGoal(t, fmt.Sprintf(`{"agent_id":%d,"title":"Launch","priority":"high","circle_id":3,
		"deadline":"2031-01-02T03:04:05Z","tags":["q1"],"context":{"b":1,"a":2}}`, g.agentID))
	if parent.Status != "pending" || parent.Priority != "high" || parent.Depth != 0 || parent.CreatedBy == "" ||
		string(parent.Context) != `{"b":1,"a":2}` || parent.Deadline.Format(time.RFC3339) != "2031-01-02T03:04:05Z" {
		t.Fatalf("created %+v", parent)
	}
	half, done := g.sub(t, parent.ID, "Write"), g.sub(t, parent.ID, "Test")
	if half.Depth != 1 || half.CircleID != 3 || half.ParentID != parent.ID {
		t.Errorf("sub-goal %+v: want depth 1 in the parent's circle", half)
	}
	g.act(t, 200, half.ID, "start", "")
	if got := decodeGoal(t, g.act(t, 200, half.ID, "progress", `{"percent":50,"message":"half way"}`)); got.ProgressPercent != 50 ||
		got.StatusMessage != "half way" {
		t.Errorf("progress: %+v", got)
	}
	if got := decodeGoal(t, g.act(t, 200, done.ID, "complete", `{"result_summary":"All green."}`)); got.Status != "completed" ||
		got.ProgressPercent != 100 || got.ResultSummary != "All green." {
		t.Errorf("complete: %+v", got)
	}
	d := g.detail(t, parent.ID)
	if d.ProgressPercent != 75 || d.SubgoalCount != 2 || d.CompletedSubgoals != 1 || d.AgentName != "Ada" || len(d.Blocking) != 0 {
		t.Errorf("parent detail %+v; want 75%%, 2 sub-goals, 1 completed, agent Ada", d)
	}
	out = g.act(t, 409, parent.ID, "progress", `{"percent":10}`)
	if !strings.Contains(out, "rolls up") {
		t.Errorf("409 of a direct progress: %s", out)
	}
	code, out = api(t, "PATCH", g.url("/goals/%d", parent.ID), g.member, `{"progress_percent":10}`)
	mustStatus(t, 409, code, out, "patch the progress of a goal with sub-goals")
	leaf := g.sub(t, half.ID, "Draft")
	code, out = api(t, "GET", g.url("/goals/%d/tree", parent.ID), g.viewer, "")
	var tree GoalTreeResponse
	if err := json.Unmarshal([]byte(out), &tree); code != 200 || err != nil || titles(tree.GoalTreeNode) != "Launch(Write(Draft),Test)" ||
		tree.Truncated || tree.Subgoals[0].Subgoals[0].Depth != 2 {
		t.Errorf("tree: %d %s", code, out)
	}
	// The new leaf at 0 pulls Write from 50 to 0, and Launch to mean(0, 100).
	if d := g.detail(t, parent.ID); d.ProgressPercent != 50 {
		t.Errorf("parent after a new leaf: %d%%, want 50", d.ProgressPercent)
	}
	code, out = api(t, "GET", g.url("/goals/%d/subgoals", parent.ID), g.viewer, "")
	subs := decodeList[GoalResponse](t, out)
	if code != 200 || subs.Total != 2 || subs.Items[0].ID != half.ID || subs.Items[1].ID != done.ID {
		t.Errorf("sub-goals: %d %s", code, out)
	}
	code, out = api(t, "GET", g.url("/goals?root_only=true"), g.viewer, "")
	if code != 200 || !strings.Contains(out, `"total":1`) || !strings.Contains(out, `"counts":{"pending":1}`) {
		t.Errorf("top-level goals: %d %s", code, out)
	}
	code, out = api(t, "GET", g.url("/goals?parent_id=%d&status=completed", parent.ID), g.viewer, "")
	var list GoalListResponse
	if err := json.Unmarshal([]byte(out), &list); code != 200 || err != nil || list.Total != 1 || list.Items[0].ID != done.ID ||
		list.Counts["active"] != 1 || list.Counts["completed"] != 1 {
		t.Errorf("completed sub-goals: %d %s", code, out)
	}
	code, out = api(t, "DELETE", g.url("/goals/%d", parent.ID), g.member, "")
	mustStatus(t, 409, code, out, "delete a goal with an active sub-goal")
	g.act(t, 200, half.ID, "pause", `{"reason":"lunch"}`)
	code, out = api(t, "DELETE", g.url("/goals/%d", parent.ID), g.member, "")
	mustStatus(t, 204, code, out, "delete a goal")
	for _, id := range []int64{parent.ID, half.ID, leaf.ID} {
		code, out = api(t, "GET", g.url("/goals/%d", id), g.viewer, "")
		mustStatus(t, 404, code, out, "get a deleted goal")
	}
}

func TestGoalBlockedStart(t *testing.T) {
	t.Parallel()
	g := newGoalSetup(t, "http://127.0.0.1:1")
	body := func(title string) string { return fmt.Sprintf(`{"agent_id":%d,"title":%q}`, g.agentID, title) }
	design, review, build := g.createGoal(t, body("Design the API")), g.createGoal(t, body("Review")), g.createGoal(t, body("Build"))
	resp, out := post(t, "POST", g.url("/goals/%d/dependencies", build.ID), g.member, fmt.Sprintf(`{"depends_on_id":%d}`, design.ID))
	mustStatus(t, 201, resp.StatusCode, out, "add a dependency")
	var dep GoalDependencyResponse
	if err := json.Unmarshal([]byte(out), &dep); err != nil || dep.DependencyType != "blocks" || dep.DependsOnTitle != "Design the API" ||
		resp.Header.Get("Location") != fmt.Sprintf("/goals/%d/dependencies/%d", build.ID, design.ID) {
		t.Fatalf("dependency %s (Location %q)", out, resp.Header.Get("Location"))
	}
	code, out := api(t, "POST", g.url("/goals/%d/dependencies", build.ID), g.member,
		fmt.Sprintf(`{"depends_on_id":%d,"dependency_type":"informs"}`, review.ID))
	mustStatus(t, 201, code, out, "an informs dependency")
	out = g.act(t, 409, build.ID, "start", "")
	var p Problem
	if err := json.Unmarshal([]byte(out), &p); err != nil || !strings.Contains(p.Detail, fmt.Sprintf(`%d "Design the API" (pending)`, design.ID)) ||
		strings.Contains(p.Detail, "Review") {
		t.Errorf("blocked start: %s; want the blocker named, not the informs one", out)
	}
	if d := g.detail(t, build.ID); len(d.Blocking) != 1 || d.Blocking[0] != (GoalRef{ID: design.ID, Title: "Design the API", Status: "pending"}) {
		t.Errorf("blocking: %+v", d.Blocking)
	}
	code, out = api(t, "POST", g.url("/goals/%d/dependencies", design.ID), g.member, fmt.Sprintf(`{"depends_on_id":%d}`, build.ID))
	mustStatus(t, 409, code, out, "a dependency closing a cycle")
	code, out = api(t, "POST", g.url("/goals/%d/dependencies", design.ID), g.member, fmt.Sprintf(`{"depends_on_id":%d,"dependency_type":"needs"}`, design.ID))
	if mustStatus(t, 422, code, out, "an invalid dependency"); !slices.Equal(problemFields(t, out), []string{"dependency_type"}) {
		t.Errorf("invalid dependency: %s", out)
	}
	code, out = api(t, "POST", g.url("/goals/%d/dependencies", design.ID), g.member, fmt.Sprintf(`{"depends_on_id":%d}`, design.ID))
	if mustStatus(t, 422, code, out, "a goal depending on itself"); !slices.Equal(problemFields(t, out), []string{"depends_on_id"}) {
		t.Errorf("self dependency: %s", out)
	}
	g.act(t, 200, design.ID, "start", "")
	g.act(t, 200, design.ID, "complete", "")
	if got := decodeGoal(t, g.act(t, 200, build.ID, "start", "")); got.Status != "active" || got.StartedAt.IsZero() {
		t.Errorf("start once unblocked: %+v", got)
	}
	code, out = api(t, "GET", g.url("/goals/%d/dependencies", build.ID), g.viewer, "")
	deps := decodeList[GoalDependencyResponse](t, out)
	if code != 200 || deps.Total != 2 || deps.Items[0].DependsOnStatus != "completed" || deps.Items[1].DependencyType != "informs" {
		t.Errorf("dependencies: %d %s", code, out)
	}
	code, out = api(t, "DELETE", g.url("/goals/%d/dependencies/%d", build.ID, review.ID), g.member, "")
	mustStatus(t, 204, code, out, "remove a dependency")
	code, out = api(t, "DELETE", g.url("/goals/%d/dependencies/%d", build.ID, review.ID), g.member, "")
	mustStatus(t, 404, code, out, "remove it again")
	g.act(t, 409, build.ID, "start", "")   // already active
	g.act(t, 409, design.ID, "pause", "")  // completed
	g.act(t, 409, review.ID, "resume", "") // pending
}

func TestGoalLinks(t *testing.T) {
	t.Parallel()
	fake := openaitest.New(t)
	fake.SetFallback(openaitest.Reply{Stall: time.Minute})
	g := newGoalSetup(t, fake.URL)
	code, out := api(t, "POST", g.url("/background-tasks"), g.member, fmt.Sprintf(`{"agent_id":%d,"goal":"Wait."}`, g.agentID))
	mustStatus(t, 201, code, out, "start a background task")
	task := decodeTask(t, out)
	linked := g.createGoal(t, fmt.Sprintf(`{"agent_id":%d,"title":"Linked","circle_task_id":12,"background_task_id":%q}`, g.agentID, task.ID))
	if d := g.detail(t, linked.ID); d.CircleTaskID != 12 || d.BackgroundTask == nil || *d.BackgroundTask != (GoalTaskRef{ID: task.ID, Status: "running"}) {
		t.Errorf("linked detail %+v, task %+v", d, d.BackgroundTask)
	}
	code, out = api(t, "POST", g.url("/background-tasks/%s/cancel", task.ID), g.member, "")
	mustStatus(t, 200, code, out, "cancel the task")
	if d := g.detail(t, linked.ID); d.BackgroundTask == nil || d.BackgroundTask.Status != "cancelled" {
		t.Errorf("after the task is cancelled: %+v", d.BackgroundTask)
	}
	code, out = api(t, "PATCH", g.url("/goals/%d", linked.ID), g.member, `{"background_task_id":"no-such-task","circle_task_id":0}`)
	mustStatus(t, 200, code, out, "link another task")
	if d := g.detail(t, linked.ID); d.BackgroundTaskID != "no-such-task" || d.BackgroundTask != nil || d.CircleTaskID != 0 {
		t.Errorf("linked to a missing task: %+v", d)
	}
	code, out = api(t, "PATCH", g.url("/goals/%d", linked.ID), g.member, `{"background_task_id":""}`)
	if mustStatus(t, 200, code, out, "unlink"); strings.Contains(out, "background_task_id") {
		t.Errorf("unlinked: %s", out)
	}
}

func TestGoalValidationAndLimits(t *testing.T) {
	t.Parallel()
	g := newGoalSetup(t, "http://127.0.0.1:1")
	for _, tc := range []struct {
		name, body string
		fields     []string
	}{
		{"empty", `{}`, []string{"agent_id", "title"}},
		{"bad fields", fmt.Sprintf(`{"agent_id":%d,"title":" ","priority":"urgent","deadline":"tomorrow","estimated_hours":-1,
			"tags":["","ok"],"context":[1],"circle_id":-4}`, g.agentID),
			[]string{"circle_id", "context", "deadline", "estimated_hours", "priority", "tags/0", "title"}},
		{"title too long", fmt.Sprintf(`{"agent_id":%d,"title":%q}`, g.agentID, strings.Repeat("é", goal.MaxTitle+1)), []string{"title"}},
		{"too many tags", fmt.Sprintf(`{"agent_id":%d,"title":"t","tags":%s}`, g.agentID, jsonTags(goal.MaxTags+1)), []string{"tags"}},
		{"context too big", fmt.Sprintf(`{"agent_id":%d,"title":"t","context":{"k":%q}}`, g.agentID, strings.Repeat("x", goal.MaxContextBytes)),
			[]string{"context"}},
		{"unknown agent", fmt.Sprintf(`{"agent_id":%d,"title":"t"}`, g.agentID+100), []string{"agent_id"}},
		{"unknown parent", fmt.Sprintf(`{"agent_id":%d,"title":"t","parent_id":999}`, g.agentID), []string{"parent_id"}},
		{"status is not set by hand", fmt.Sprintf(`{"agent_id":%d,"title":"t","status":"active"}`, g.agentID), []string{"status"}},
	} {
		code, out := api(t, "POST", g.url("/goals"), g.member, tc.body)
		if code != 422 || !slices.Equal(problemFields(t, out), tc.fields) {
			t.Errorf("%s: %d %s; want 422 on %v", tc.name, code, out, tc.fields)
		}
	}
	g.createGoal(t, fmt.Sprintf(`{"agent_id":%d,"title":%q,"tags":%s}`, g.agentID, strings.Repeat("é", goal.MaxTitle), jsonTags(goal.MaxTags)))
	code, out := api(t, "POST", g.url("/goals"), g.member, `{"title":"`+strings.Repeat("x", goalBodyLimit)+`"}`)
	mustStatus(t, 413, code, out, "a body over the limit")

	// Sub-goals go 5 levels deep at most.
	parent := g.createGoal(t, fmt.Sprintf(`{"agent_id":%d,"title":"level 0"}`, g.agentID))
	for depth := 1; depth <= store.MaxGoalDepth; depth++ {
		parent = g.sub(t, parent.ID, "level "+strconv.Itoa(depth))
	}
	code, out = api(t, "POST", g.url("/goals"), g.member, fmt.Sprintf(`{"agent_id":%d,"title":"too deep","parent_id":%d}`, g.agentID, parent.ID))
	if mustStatus(t, 422, code, out, "a sub-goal too deep"); !slices.Equal(problemFields(t, out), []string{"parent_id"}) {
		t.Errorf("too deep: %s", out)
	}

	// Patches name the version they read.
	code, out = api(t, "PATCH", g.url("/goals/%d", parent.ID), g.member, fmt.Sprintf(`{"version":%d,"title":"Deepest"}`, parent.Version))
	mustStatus(t, 200, code, out, "patch at the version read")
	code, out = api(t, "PATCH", g.url("/goals/%d", parent.ID), g.member, fmt.Sprintf(`{"version":%d,"title":"Stale"}`, parent.Version))
	if mustStatus(t, 409, code, out, "patch at a stale version"); !strings.Contains(out, "changed since you read it") {
		t.Errorf("stale patch: %s", out)
	}
	code, out = api(t, "PATCH", g.url("/goals/%d", parent.ID), g.member, `{"title":"","progress_percent":101,"deadline":"soon"}`)
	if mustStatus(t, 422, code, out, "an invalid patch"); !slices.Equal(problemFields(t, out), []string{"deadline", "progress_percent", "title"}) {
		t.Errorf("invalid patch: %s", out)
	}
	code, out = api(t, "POST", g.url("/goals/%d/progress", parent.ID), g.member, `{"message":"no percent"}`)
	if mustStatus(t, 422, code, out, "progress without a percent"); !slices.Equal(problemFields(t, out), []string{"percent"}) {
		t.Errorf("progress without a percent: %s", out)
	}
	code, out = api(t, "POST", g.url("/goals/%d/fail", parent.ID), g.member, `{"reason":""}`)
	if mustStatus(t, 422, code, out, "fail without a reason"); !slices.Equal(problemFields(t, out), []string{"reason"}) {
		t.Errorf("fail without a reason: %s", out)
	}
	code, out = api(t, "POST", g.url("/goals/%d/pause", parent.ID), g.member, fmt.Sprintf(`{"reason":%q}`, strings.Repeat("r", goal.MaxStatusMessage+1)))
	mustStatus(t, 422, code, out, "a reason too long")
	code, out = api(t, "GET", g.url("/goals?status=asleep&root_only=yes&circle_id=x&agent_id=-1"), g.viewer, "")
	if mustStatus(t, 422, code, out, "an invalid query"); !slices.Equal(problemFields(t, out), []string{"agent_id", "circle_id", "root_only"}) {
		t.Errorf("invalid query: %s", out)
	}
	code, out = api(t, "GET", g.url("/goals?status=asleep&root_only=true&parent_id=%d", parent.ID), g.viewer, "")
	if mustStatus(t, 422, code, out, "a contradictory query"); !slices.Equal(problemFields(t, out), []string{"root_only", "status"}) {
		t.Errorf("contradictory query: %s", out)
	}
	for _, path := range []string{"/goals/999", "/goals/999/tree", "/goals/999/subgoals", "/goals/999/dependencies", "/goals/abc"} {
		code, out = api(t, "GET", g.url("%s", path), g.viewer, "")
		mustStatus(t, 404, code, out, "GET "+path)
	}
}

// jsonTags is a JSON array of n distinct tags.
func jsonTags(n int) string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = "tag" + strconv.Itoa(i)
	}
	b, _ := json.Marshal(tags)
	return string(b)
}
