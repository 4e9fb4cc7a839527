package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/store/pgtest"
)

// request sends a JSON request to a process and returns status and body.
func request(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func accessToken(t *testing.T, url, email, password string) string {
	t.Helper()
	code, body := request(t, "POST", url+"/auth/login/json", "", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal([]byte(body), &tok); code != 200 || tok.AccessToken == "" {
		t.Fatalf("login %s: %d %s", email, code, body)
	}
	return tok.AccessToken
}

// stopProcess sends SIGTERM and waits for a clean exit.
func stopProcess(t *testing.T, p *process) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr)
	}
}

// TestProcessRevocationHoldsAcrossRestartsAndInstances is SEC-01 on real
// processes sharing one PostgreSQL: a logged-out token stays rejected by a
// second instance at once and by the first after a restart, and accounts
// survive restarts.
func TestProcessRevocationHoldsAcrossRestartsAndInstances(t *testing.T) {
	t.Parallel()
	vars := []string{"DATABASE_URL=" + pgtest.NewDatabase(t), "SECRET_KEY=" + strings.Repeat("k", 40), "GATHERING_SHUTDOWN_DRAIN=0s"}
	a := serveProcess(t, t.TempDir(), vars...)
	code, body := request(t, "POST", a.url+"/auth/register", "", `{"email":"sam@example.com","password":"sam-password","name":"Sam"}`)
	if code != 201 {
		t.Fatalf("register: %d %s", code, body)
	}
	token := accessToken(t, a.url, "sam@example.com", "sam-password")
	b := serveProcess(t, t.TempDir(), vars...)
	for _, p := range []*process{a, b} {
		if code, body := request(t, "GET", p.url+"/auth/me", token, ""); code != 200 {
			t.Fatalf("me before logout: %d %s", code, body)
		}
	}
	if code, body := request(t, "POST", a.url+"/auth/logout", token, ""); code != 204 {
		t.Fatalf("logout: %d %s", code, body)
	}
	for _, p := range []*process{a, b} {
		if code, _ := request(t, "GET", p.url+"/auth/me", token, ""); code != 401 {
			t.Fatalf("me after logout on %s: %d", p.url, code)
		}
	}
	stopProcess(t, a)
	restarted := serveProcess(t, t.TempDir(), vars...)
	if code, _ := request(t, "GET", restarted.url+"/auth/me", token, ""); code != 401 {
		t.Fatalf("me after a restart: %d", code)
	}
	fresh := accessToken(t, restarted.url, "sam@example.com", "sam-password")
	if code, body := request(t, "GET", b.url+"/auth/me", fresh, ""); code != 200 {
		t.Fatalf("a token of the restarted instance on the other one: %d %s", code, body)
	}
}

// TestProcessRateLimitSharedThroughRedis: two instances sharing Redis let
// one client make 5 auth requests a minute in all, not 5 each.
func TestProcessRateLimitSharedThroughRedis(t *testing.T) {
	t.Parallel()
	redisURL := cmpEnv("GATHERING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	vars := []string{"REDIS_URL=" + redisURL, "GATHERING_REDIS_PREFIX=test-" + rand.Text() + ":", "GATHERING_RATE_LIMIT_AUTH=5/min"}
	a := serveProcess(t, t.TempDir(), vars...)
	b := serveProcess(t, t.TempDir(), vars...)
	if !strings.Contains(a.stderr.String()+b.stderr.String(), "gathering is ready") {
		t.Fatal("instances not ready")
	}
	for i := range 10 {
		p := []*process{a, b}[i%2]
		code, body := request(t, "POST", p.url+"/auth/login/json", "", fmt.Sprintf(`{"email":"user%d@example.com","password":"wrong-password"}`, i))
		switch {
		case i < 5 && code != 401:
			t.Fatalf("attempt %d: %d %s", i+1, code, body)
		case i >= 5 && (code != 429 || !strings.Contains(body, "Too many auth requests")):
			t.Fatalf("attempt %d: %d %s", i+1, code, body)
		}
	}
	if strings.Contains(a.stderr.String()+b.stderr.String(), "fall back to memory") {
		t.Fatal("the limiter fell back to memory: Redis was not used")
	}
}

func cmpEnv(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
