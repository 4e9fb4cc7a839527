package httpapi

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
)

// awaitTask polls a task over the API until ok holds.
func awaitTask(t *testing.T, s setup, token, id string, ok func(TaskDetailResponse) bool) TaskDetailResponse {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, body := api(t, "GET", s.srv.URL+"/background-tasks/"+id, token, "")
		mustStatus(t, 200, code, body, "get a task")
		var d TaskDetailResponse
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			t.Fatal(err)
		}
		if ok(d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s stays %s: %s", id, d.Status, body)
		}
	}
}

func decodeTask(t *testing.T, body string) TaskResponse {
	t.Helper()
	var task TaskResponse
	if err := json.Unmarshal([]byte(body), &task); err != nil {
		t.Fatal(err)
	}
	return task
}

func TestBackgroundTasks(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	fake := openaitest.New(t)
	agentID := strconv.FormatInt(fakeAgent(t, s, fake.URL), 10)
	fake.Push(openaitest.Reply{Content: "Looked around.", Usage: llm.Usage{InputTokens: 10, OutputTokens: 5}},
		openaitest.Reply{Content: "TASK COMPLETE\nAll found.", Usage: llm.Usage{InputTokens: 20, OutputTokens: 5}})
	url := s.srv.URL + "/background-tasks"
	code, body := api(t, "POST", url, viewer, `{"agent_id":`+agentID+`,"goal":"Find it."}`)
	mustStatus(t, 403, code, body, "a viewer creates a task")
	code, body = api(t, "POST", url, member, `{"agent_id":424242,"goal":"","max_steps":0,"timeout_seconds":90000,"checkpoint_interval":20}`)
	mustStatus(t, 422, code, body, "an invalid task")
	for _, field := range []string{`"field":"goal"`, `"field":"timeout_seconds"`, `"field":"checkpoint_interval"`, `"field":"agent_id"`} {
		if !strings.Contains(body, field) {
			t.Errorf("422 lacks %s: %s", field, body)
		}
	}
	resp, body := post(t, "POST", url, member, `{"agent_id":`+agentID+`,"goal":"Find it.","max_steps":4}`)
	mustStatus(t, 201, resp.StatusCode, body, "create a task")
	task := decodeTask(t, body)
	if task.Status != "running" || task.MaxSteps != 4 || task.CheckpointInterval != 1 || resp.Header.Get("Location") != "/background-tasks/"+task.ID {
		t.Fatalf("created %s (Location %q)", body, resp.Header.Get("Location"))
	}
	d := awaitTask(t, s, viewer, task.ID, func(d TaskDetailResponse) bool { return d.Status == "completed" })
	if d.Result != "All found." || len(d.Steps) != 2 || d.Usage.InputTokens != 30 || d.Steps[0].Content != "Looked around." ||
		string(d.Steps[0].ToolCalls) != "[]" || d.CheckpointStep != 2 || d.SessionID == "" {
		t.Fatalf("detail %+v", d)
	}
	code, body = api(t, "GET", url+"?status=completed&agent_id="+agentID, viewer, "")
	if code != 200 || !strings.Contains(body, `"total":1`) || !strings.Contains(body, task.ID) {
		t.Fatalf("list: %d %s", code, body)
	}
	code, body = api(t, "GET", url+"?status=sleeping", viewer, "")
	mustStatus(t, 422, code, body, "an unknown status")
	code, body = api(t, "POST", url+"/"+task.ID+"/pause", member, "")
	mustStatus(t, 409, code, body, "pause a finished task")
	code, body = api(t, "GET", url+"/nosuchtask", viewer, "")
	mustStatus(t, 404, code, body, "an unknown task")
}

func TestBackgroundTaskLimitPauseResumeCancel(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	member := callers(t, s)[2].token
	fake := openaitest.New(t)
	fake.SetFallback(openaitest.Reply{Stall: time.Minute})
	agentID := strconv.FormatInt(fakeAgent(t, s, fake.URL), 10)
	url := s.srv.URL + "/background-tasks"
	var ids []string
	for range 5 {
		code, body := api(t, "POST", url, member, `{"agent_id":`+agentID+`,"goal":"Wait."}`)
		mustStatus(t, 201, code, body, "create a task")
		ids = append(ids, decodeTask(t, body).ID)
	}
	resp, body := post(t, "POST", url, member, `{"agent_id":`+agentID+`,"goal":"One too many."}`)
	mustStatus(t, 429, resp.StatusCode, body, "the sixth task")
	if resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "At most 5 background tasks") {
		t.Fatalf("429 without Retry-After or reason: %v %s", resp.Header, body)
	}
	code, body := api(t, "POST", url+"/"+ids[0]+"/pause", member, "")
	if mustStatus(t, 200, code, body, "pause"); decodeTask(t, body).Status != "paused" {
		t.Fatalf("pause: %s", body)
	}
	code, body = api(t, "POST", url+"/"+ids[0]+"/resume", member, "")
	if mustStatus(t, 200, code, body, "resume"); decodeTask(t, body).Status != "running" {
		t.Fatalf("resume: %s", body)
	}
	var statuses []string
	for _, id := range ids {
		code, body = api(t, "POST", url+"/"+id+"/cancel", member, "")
		mustStatus(t, 200, code, body, "cancel")
		statuses = append(statuses, decodeTask(t, body).Status)
	}
	if !slices.Equal(statuses, []string{"cancelled", "cancelled", "cancelled", "cancelled", "cancelled"}) {
		t.Fatalf("statuses %v", statuses)
	}
	code, body = api(t, "POST", url+"/"+ids[0]+"/resume", member, "")
	mustStatus(t, 409, code, body, "resume a cancelled task")
}

// TestRunTaskAction: a run_task action's occurrence starts a background
// task of its agent, links it, and ends with the task's real outcome.
func TestRunTaskAction(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	fake := openaitest.New(t)
	agentID := strconv.FormatInt(fakeAgent(t, s, fake.URL), 10)
	base := s.srv.URL + "/scheduled-actions"
	action := func(name, goal string) string {
		code, body := api(t, "POST", base, member, `{"name":"`+name+`","action_type":"run_task","agent_id":`+agentID+
			`,"action_config":{"goal":"`+goal+`","max_steps":2},"schedule_type":"cron","cron_expression":"0 3 * * *"}`)
		mustStatus(t, 201, code, body, "create a run_task action")
		return strconv.FormatInt(decodeAction(t, body).ID, 10)
	}
	finished := func(id string) ScheduleRunResponse {
		code, body := api(t, "POST", base+"/"+id+"/trigger", member, "")
		mustStatus(t, 202, code, body, "trigger")
		run := decodeScheduleRun(t, body)
		within(t, 15*time.Second, "the run finishes", func() bool {
			code, body = api(t, "GET", base+"/"+id+"/runs/"+run.ID, viewer, "")
			run = decodeScheduleRun(t, body)
			return run.Status == "completed" || run.Status == "failed"
		})
		return run
	}

	fake.Push(openaitest.Reply{Content: "Drafted."}, openaitest.Reply{Content: "TASK COMPLETE: the report"})
	run := finished(action("report", "Write the report."))
	if run.Status != "completed" || run.BackgroundTaskID == "" || !strings.Contains(string(run.Result), `"result":"the report"`) {
		t.Fatalf("run %+v", run)
	}
	d := awaitTask(t, s, viewer, run.BackgroundTaskID, func(d TaskDetailResponse) bool { return d.Status == "completed" })
	if len(d.Steps) != 2 || d.Goal != "Write the report." || d.CreatedBy == 0 {
		t.Fatalf("task %+v", d)
	}

	fake.SetFallback(openaitest.Reply{Content: "Not yet."})
	run = finished(action("endless", "Never finish."))
	if run.Status != "failed" || !strings.Contains(run.Error, "ended failed") || run.BackgroundTaskID == "" {
		t.Fatalf("run of a task that used its steps: %+v", run)
	}

	code, body := api(t, "POST", base, member, `{"name":"bad","action_type":"run_task","action_config":{"goal":"","max_steps":500},"schedule_type":"cron","cron_expression":"0 3 * * *"}`)
	mustStatus(t, 422, code, body, "an invalid run_task action")
	for _, field := range []string{`"field":"agent_id"`, `"field":"action_config/goal"`, `"field":"action_config/max_steps"`} {
		if !strings.Contains(body, field) {
			t.Errorf("422 lacks %s: %s", field, body)
		}
	}
}
