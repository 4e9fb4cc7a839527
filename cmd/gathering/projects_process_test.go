package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestProcessActivitySurvivesRestart records a project's activity three
// ways — a file written through the API, an fs.write tool call, and an
// activity posted by a person — restarts the binary on the same data, and
// finds all three.
func TestProcessActivitySurvivesRestart(t *testing.T) {
	t.Parallel()
	vars, password := adminVars(t)
	vars = append(vars, "SECRET_KEY="+strings.Repeat("p", 40))
	dir := t.TempDir()
	p := serveProcess(t, dir, vars...)
	token := accessToken(t, p.url, "ops@example.com", password)
	var project struct{ ID int64 }
	_ = json.Unmarshal([]byte(mustRequest(t, 201, "POST", p.url+"/projects", token, `{"name":"Atlas"}`)), &project)
	id := strconv.FormatInt(project.ID, 10)
	mustRequest(t, 200, "PUT", p.url+"/workspace/"+id+"/file?path=docs%2Fplan.md", token, `{"content":"# Plan"}`)
	mustRequest(t, 200, "POST", p.url+"/tools/fs.write/execute", token, `{"input":{"project_id":"`+id+`","path":"notes.txt","content":"hi"}}`)
	mustRequest(t, 201, "POST", p.url+"/workspace/"+id+"/activities", token, `{"kind":"test_run","summary":"all green"}`)
	var before string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if before = mustRequest(t, 200, "GET", p.url+"/workspace/"+id+"/activities", token, ""); strings.Contains(before, `"total":3`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("activities before the restart: %s", before)
		}
	}
	stopProcess(t, p)

	p = serveProcess(t, dir, vars...)
	after := mustRequest(t, 200, "GET", p.url+"/workspace/"+id+"/activities", token, "")
	for _, want := range []string{`"total":3`, `"path":"docs/plan.md"`, `"summary":"Wrote notes.txt"`, `"summary":"all green"`} {
		if !strings.Contains(after, want) {
			t.Errorf("after the restart the activity lacks %s: %s", want, after)
		}
	}
}
