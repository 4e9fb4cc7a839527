package main

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/store/pgtest"
)

// taskView is the part of a background task the process tests read.
type taskView struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	Result         string `json:"result"`
	CheckpointStep int    `json:"checkpoint_step"`
	Steps          []struct {
		Step   int    `json:"step"`
		Status string `json:"status"`
	} `json:"steps"`
}

func getTask(t *testing.T, url, token, id string) taskView {
	t.Helper()
	var v taskView
	if err := json.Unmarshal([]byte(mustRequest(t, 200, "GET", url+"/background-tasks/"+id, token, "")), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// stepPrompts lists, for each chat request the fake received, the step
// its prompt asks for.
func stepPrompts(fake *openaitest.Server) []int {
	var steps []int
	for _, req := range fake.Requests() {
		msgs, _ := req.Body["messages"].([]any)
		last, _ := msgs[len(msgs)-1].(map[string]any)
		text, _ := last["content"].(string)
		_, after, ok := strings.Cut(text, "This is step ")
		if n, err := strconv.Atoi(strings.Fields(after + " x")[0]); ok && err == nil {
			steps = append(steps, n)
		}
	}
	return steps
}

// TestProcessBackgroundTaskSurvivesKill9 kills the binary with -9 while a
// task's third step waits on its provider, restarts it on the same data,
// and finds the task continuing from its checkpoint: steps 1 and 2 are not
// asked for again, step 3 is, and the task completes — on both backends
// (on PostgreSQL once the dead process's lease ends).
func TestProcessBackgroundTaskSurvivesKill9(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			fake := openaitest.New(t)
			fake.Push(openaitest.Reply{Content: "One."}, openaitest.Reply{Content: "Two."}, openaitest.Reply{Stall: time.Minute})
			vars, password := adminVars(t)
			vars = append(vars, "SECRET_KEY="+strings.Repeat("t", 40), "GATHERING_BACKGROUND_TASK_LEASE=3s",
				"GATHERING_RATE_LIMIT_READ=100000/min")
			if backend == "postgres" {
				vars = append(vars, "DATABASE_URL="+pgtest.NewDatabase(t))
			}
			dir := t.TempDir()
			p := serveProcess(t, dir, vars...)
			token := accessToken(t, p.url, "ops@example.com", password)
			mustRequest(t, 201, "POST", p.url+"/providers", token, `{"name":"fake","kind":"openai","base_url":"`+fake.URL+`"}`)
			mustRequest(t, 201, "POST", p.url+"/models", token, `{"provider":"fake","name":"fake-1","context_window":8000,"max_output":500,"price_input":1,"price_output":2}`)
			var ag struct{ ID int64 }
			_ = json.Unmarshal([]byte(mustRequest(t, 201, "POST", p.url+"/agents", token, `{"name":"Ada","persona_id":1,"provider":"fake","model":"fake-1"}`)), &ag)
			var task taskView
			_ = json.Unmarshal([]byte(mustRequest(t, 201, "POST", p.url+"/background-tasks", token,
				`{"agent_id":`+strconv.FormatInt(ag.ID, 10)+`,"goal":"Count to three.","max_steps":5}`)), &task)
			for deadline := time.Now().Add(20 * time.Second); len(fake.Requests()) < 3; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("step 3 never began: %+v", getTask(t, p.url, token, task.ID))
				}
			}
			if before := getTask(t, p.url, token, task.ID); before.CheckpointStep != 2 {
				t.Fatalf("before the kill: %+v", before)
			}
			p.cmd.Process.Kill()
			p.wait(t, 10*time.Second)

			fake.Push(openaitest.Reply{Content: "TASK COMPLETE: three"})
			p = serveProcess(t, dir, vars...)
			var after taskView
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				if after = getTask(t, p.url, token, task.ID); after.Status != "running" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the task did not finish after the restart: %+v", after)
				}
			}
			if after.Status != "completed" || after.Result != "three" || len(after.Steps) != 3 || after.Steps[2].Status != "completed" {
				t.Fatalf("after the restart: %+v", after)
			}
			if got := stepPrompts(fake); !slices.Equal(got, []int{1, 2, 3, 3}) {
				t.Errorf("the provider was asked for steps %v, want 1, 2, 3 and 3 again", got)
			}
		})
	}
}
