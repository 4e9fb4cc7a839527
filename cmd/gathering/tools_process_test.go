package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gathering/gathering/internal/store/pgtest"
)

// adminVars configure an administrator for a process and return them with
// the password.
func adminVars(t *testing.T) ([]string, string) {
	t.Helper()
	const password = "tool-admin-password"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), 10)
	if err != nil {
		t.Fatal(err)
	}
	return []string{"ADMIN_EMAIL=ops@example.com", "ADMIN_PASSWORD_HASH=" + string(hash)}, password
}

func execution(t *testing.T, body string) map[string]any {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal([]byte(body), &e); err != nil || e["id"] == nil {
		t.Fatalf("not an execution: %s", body)
	}
	return e
}

// TestProcessToolsEndToEnd calls built-in tools on the real binary: calc,
// fs inside a project workspace with traversal refused, and http reaching a
// loopback server only because the allow-list names loopback.
func TestProcessToolsEndToEnd(t *testing.T) {
	t.Parallel()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"pong":true}`))
	}))
	defer target.Close()
	vars, password := adminVars(t)
	dir := t.TempDir()
	p := serveProcess(t, dir, append(vars, "GATHERING_OUTBOUND_ALLOWLIST=127.0.0.0/8")...)
	token := accessToken(t, p.url, "ops@example.com", password)
	call := func(name, input string) (int, string) {
		return request(t, "POST", p.url+"/tools/"+name+"/execute", token, `{"input":`+input+`}`)
	}
	if code, body := call("calc.eval", `{"expression":"15% of 2500"}`); code != 200 || !strings.Contains(body, `"result":375`) {
		t.Fatalf("calc: %d %s", code, body)
	}
	if code, body := call("calc.eval", `{"expression":"1/0"}`); code != 422 || !strings.Contains(body, `"/expression"`) {
		t.Fatalf("calc division by zero: %d %s", code, body)
	}
	var project struct{ ID int64 }
	_ = json.Unmarshal([]byte(mustRequest(t, 201, "POST", p.url+"/projects", token, `{"name":"demo"}`)), &project)
	demo := strconv.FormatInt(project.ID, 10)
	if code, body := call("fs.write", `{"project_id":"`+demo+`","path":"notes/a.txt","content":"hello"}`); code != 200 {
		t.Fatalf("fs.write: %d %s", code, body)
	}
	if code, body := call("fs.read", `{"project_id":"`+demo+`","path":"notes/a.txt"}`); code != 200 || !strings.Contains(body, `"content":"hello"`) {
		t.Fatalf("fs.read: %d %s", code, body)
	}
	for _, path := range []string{"../../gathering.db", "%2e%2e%2fgathering.db", "/etc/passwd", ".env"} {
		if code, body := call("fs.read", `{"project_id":"`+demo+`","path":"`+path+`"}`); code != 403 || !strings.Contains(body, `"field":"/path"`) {
			t.Errorf("fs.read %q: %d %s", path, code, body)
		}
	}
	if code, body := call("http.request", `{"method":"GET","url":"`+target.URL+`/ping"}`); code != 200 || !strings.Contains(body, `"pong":true`) {
		t.Fatalf("http to an allow-listed loopback server: %d %s", code, body)
	}
	if code, body := call("http.request", `{"method":"GET","url":"http://169.254.169.254/latest/meta-data/"}`); code != 403 {
		t.Fatalf("http to the metadata address: %d %s", code, body)
	}
}

// hangingServer answers no request until the client goes away or the test
// ends.
func hangingServer(t *testing.T) *httptest.Server {
	t.Helper()
	hang := make(chan struct{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hang); target.Close() })
	return target
}

// TestProcessRestartInterruptsRunningExecution kills the binary while a
// background tool call runs; the next start records it failed, interrupted.
func TestProcessRestartInterruptsRunningExecution(t *testing.T) {
	t.Parallel()
	target := hangingServer(t)
	vars, password := adminVars(t)
	vars = append(vars, "GATHERING_OUTBOUND_ALLOWLIST=127.0.0.0/8", "SECRET_KEY="+strings.Repeat("r", 40))
	dir := t.TempDir()
	p := serveProcess(t, dir, vars...)
	token := accessToken(t, p.url, "ops@example.com", password)
	code, body := request(t, "POST", p.url+"/tools/http.request/execute", token, `{"background":true,"input":{"method":"GET","url":"`+target.URL+`/slow","timeout_seconds":60}}`)
	if code != 202 {
		t.Fatalf("background call: %d %s", code, body)
	}
	id := execution(t, body)["id"].(string)
	waitExecution(t, p.url, token, id, "running")
	p.cmd.Process.Kill()
	p.wait(t, 10*time.Second)
	restarted := serveProcess(t, dir, vars...)
	code, body = request(t, "GET", restarted.url+"/tools/executions/"+id, token, "")
	e := execution(t, body)
	if code != 200 || e["status"] != "failed" || e["reason"] != "interrupted" {
		t.Fatalf("after the restart: %d %s", code, body)
	}
}

// TestProcessCancelReachesTheOwningInstance runs a background call on one
// instance and cancels it through another sharing the same PostgreSQL: the
// request travels over the event bus to the owner, which stops the run.
func TestProcessCancelReachesTheOwningInstance(t *testing.T) {
	t.Parallel()
	target := hangingServer(t)
	vars, password := adminVars(t)
	vars = append(vars, "DATABASE_URL="+pgtest.NewDatabase(t), "SECRET_KEY="+strings.Repeat("c", 40), "GATHERING_OUTBOUND_ALLOWLIST=127.0.0.0/8")
	owner := serveProcess(t, t.TempDir(), vars...)
	other := serveProcess(t, t.TempDir(), vars...)
	token := accessToken(t, owner.url, "ops@example.com", password)
	code, body := request(t, "POST", owner.url+"/tools/http.request/execute", token, `{"background":true,"input":{"method":"GET","url":"`+target.URL+`/slow","timeout_seconds":60}}`)
	if code != 202 {
		t.Fatalf("background call: %d %s", code, body)
	}
	id := execution(t, body)["id"].(string)
	waitExecution(t, other.url, token, id, "running")
	code, body = request(t, "POST", other.url+"/tools/executions/"+id+"/cancel", token, "")
	if code != 202 {
		t.Fatalf("cancel through the other instance: %d %s", code, body)
	}
	if e := waitExecution(t, other.url, token, id, "cancelled"); e["reason"] != "cancelled" {
		t.Fatalf("cancelled: %v", e)
	}
}

// waitExecution polls an execution until it has the status.
func waitExecution(t *testing.T, url, token, id, status string) map[string]any {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, body := request(t, "GET", url+"/tools/executions/"+id, token, "")
		if e := execution(t, body); e["status"] == status {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution never %s: %s", status, body)
		}
	}
}
