package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/llm/openai/openaitest"
)

// teamView is the part of a conversation, a circle task or a goal the
// process test reads.
type teamView struct {
	ID              json.RawMessage `json:"id"`
	Status          string          `json:"status"`
	TurnsTaken      int             `json:"turns_taken"`
	AssignedAgentID int64           `json:"assigned_agent_id"`
	ProgressPercent int             `json:"progress_percent"`
	SubgoalCount    int             `json:"subgoal_count"`
	Members         []struct {
		AgentID int64 `json:"agent_id"`
	} `json:"members"`
}

func getView(t *testing.T, url, token, path string) teamView {
	t.Helper()
	var v teamView
	if err := json.Unmarshal([]byte(mustRequest(t, 200, "GET", url+path, token, "")), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// waitView polls path until done holds.
func waitView(t *testing.T, url, token, path string, done func(teamView) bool) teamView {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		v := getView(t, url, token, path)
		if done(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never got there: %+v", path, v)
		}
	}
}

// TestProcessTeamSurvivesKill9 builds a circle with a routed task, a
// finished conversation, a conversation whose first turn waits on its
// provider, and a goal with a sub-goal; kills the binary with -9, restarts
// it on the same data, and finds all of it — the interrupted conversation
// continuing to its end.
func TestProcessTeamSurvivesKill9(t *testing.T) {
	t.Parallel()
	fake := openaitest.New(t)
	fake.SetFallback(openaitest.Reply{Content: "Noted."})
	vars, password := adminVars(t)
	vars = append(vars, "SECRET_KEY="+strings.Repeat("c", 40), "GATHERING_RATE_LIMIT_READ=100000/min")
	dir := t.TempDir()
	p := serveProcess(t, dir, vars...)
	token := accessToken(t, p.url, "ops@example.com", password)
	mustRequest(t, 201, "POST", p.url+"/providers", token, `{"name":"fake","kind":"openai","base_url":"`+fake.URL+`"}`)
	mustRequest(t, 201, "POST", p.url+"/models", token, `{"provider":"fake","name":"fake-1","context_window":8000,"max_output":500}`)
	ids := make([]int64, 3)
	for i, name := range []string{"Ada", "Bob", "Cy"} {
		var ag struct{ ID int64 }
		_ = json.Unmarshal([]byte(mustRequest(t, 201, "POST", p.url+"/agents", token, `{"name":"`+name+`","persona_id":1,"provider":"fake","model":"fake-1"}`)), &ag)
		ids[i] = ag.ID
	}
	mustRequest(t, 201, "POST", p.url+"/circles", token, `{"name":"core","auto_route":true}`)
	mustRequest(t, 201, "POST", p.url+"/circles/core/agents", token, fmt.Sprintf(`{"agent_id":%d,"competencies":["go"]}`, ids[0]))
	mustRequest(t, 201, "POST", p.url+"/circles/core/agents", token, fmt.Sprintf(`{"agent_id":%d,"competencies":["docs"]}`, ids[1]))
	var task teamView
	_ = json.Unmarshal([]byte(mustRequest(t, 201, "POST", p.url+"/circles/core/tasks", token, `{"title":"Parser","required_competencies":["go"]}`)), &task)
	agents := fmt.Sprintf("[%d,%d,%d]", ids[0], ids[1], ids[2])
	var done, cut teamView
	_ = json.Unmarshal([]byte(mustRequest(t, 201, "POST", p.url+"/conversations", token, `{"topic":"Plan","agent_ids":`+agents+`,"max_turns":3}`)), &done)
	mustRequest(t, 202, "POST", p.url+"/conversations/"+unquote(done.ID)+"/start", token, "")
	waitView(t, p.url, token, "/conversations/"+unquote(done.ID), func(v teamView) bool { return v.Status == "completed" })
	fake.Push(openaitest.Reply{Stall: time.Minute})
	asked := len(fake.Requests())
	_ = json.Unmarshal([]byte(mustRequest(t, 201, "POST", p.url+"/conversations", token, `{"topic":"Review","agent_ids":`+agents+`,"max_turns":2}`)), &cut)
	mustRequest(t, 202, "POST", p.url+"/conversations/"+unquote(cut.ID)+"/start", token, "")
	var parent, child teamView
	_ = json.Unmarshal([]byte(mustRequest(t, 201, "POST", p.url+"/goals", token, fmt.Sprintf(`{"agent_id":%d,"title":"Ship","description":"Ship v2"}`, ids[0]))), &parent)
	_ = json.Unmarshal([]byte(mustRequest(t, 201, "POST", p.url+"/goals", token, fmt.Sprintf(`{"agent_id":%d,"parent_id":%s,"title":"Parser","description":"Write it"}`, ids[0], parent.ID))), &child)
	mustRequest(t, 200, "POST", p.url+"/goals/"+string(child.ID)+"/progress", token, `{"percent":40}`)
	for deadline := time.Now().Add(20 * time.Second); len(fake.Requests()) == asked; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the second conversation's first turn never reached the provider")
		}
	}
	p.cmd.Process.Kill()
	p.wait(t, 10*time.Second)

	p = serveProcess(t, dir, vars...)
	if c := getView(t, p.url, token, "/circles/core"); len(c.Members) != 2 {
		t.Errorf("the circle after the restart: %+v", c)
	}
	if v := getView(t, p.url, token, "/circles/core/tasks/"+string(task.ID)); v.Status != "assigned" || v.AssignedAgentID != ids[0] {
		t.Errorf("the task after the restart: %+v", v)
	}
	if v := getView(t, p.url, token, "/conversations/"+unquote(done.ID)); v.Status != "completed" || v.TurnsTaken != 3 {
		t.Errorf("the finished conversation after the restart: %+v", v)
	}
	if transcript := mustRequest(t, 200, "GET", p.url+"/conversations/"+unquote(done.ID)+"/transcript", token, ""); strings.Count(transcript, "Noted.") != 3 {
		t.Errorf("transcript after the restart: %s", transcript)
	}
	v := waitView(t, p.url, token, "/conversations/"+unquote(cut.ID), func(v teamView) bool { return v.Status != "active" })
	if v.Status != "completed" || v.TurnsTaken != 2 {
		t.Errorf("the interrupted conversation: %+v", v)
	}
	if g := getView(t, p.url, token, "/goals/"+string(parent.ID)); g.ProgressPercent != 40 || g.SubgoalCount != 1 {
		t.Errorf("the goal after the restart: %+v", g)
	}
}

// unquote reads a JSON string id.
func unquote(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}
