package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/httpapi"
)

// binaryPath is the gathering binary built once for the process tests.
var binaryPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gathering-bin-")
	if err != nil {
		panic(err)
	}
	binaryPath = filepath.Join(dir, "gathering")
	if out, err := exec.Command("go", "build", "-o", binaryPath, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build gathering: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintf(os.Stderr, "goroutine leak: %v\n", err)
		code = 1
	}
	os.Exit(code)
}

// syncBuffer collects a server's log lines from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// readyURL returns the URL of the "gathering is ready" log line, if any.
func (b *syncBuffer) readyURL() string {
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		var line struct{ Msg, URL string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "gathering is ready" {
			return line.URL
		}
	}
	return ""
}

// instance is a serve command running in-process on a random port.
type instance struct {
	url    string
	logs   *syncBuffer
	stop   context.CancelFunc // what SIGTERM does in main
	exited chan int
}

// startServe runs `gathering serve` in-process with a fresh data directory,
// a random port, no drain delay and JSON debug logs, plus vars and routes.
func startServe(t *testing.T, vars map[string]string, routes ...httpapi.Route) *instance {
	t.Helper()
	return startServeWith(t, vars, nil, routes...)
}

// startServeWith is startServe that also hands over the instance's event
// bus.
func startServeWith(t *testing.T, vars map[string]string, onBus func(*event.Bus), routes ...httpapi.Route) *instance {
	t.Helper()
	settings := map[string]string{
		"GATHERING_DATA_DIR":       t.TempDir(),
		"PORT":                     "0",
		"GATHERING_SHUTDOWN_DRAIN": "0s",
		"LOG_LEVEL":                "debug",
		"GATHERING_LOG_FORMAT":     "json",
		"GATHERING_BCRYPT_COST":    "10",
	}
	maps.Copy(settings, vars)
	ctx, stop := context.WithCancel(context.Background())
	inst := &instance{logs: &syncBuffer{}, stop: stop, exited: make(chan int, 1)}
	addr := make(chan string, 1)
	e := env{stdout: io.Discard, stderr: inst.logs, getenv: func(k string) string { return settings[k] },
		routes: routes, listening: func(a string) { addr <- a }, bus: onBus}
	go func() { inst.exited <- run(ctx, []string{"serve"}, e) }()
	select {
	case a := <-addr:
		inst.url = "http://" + a
	case code := <-inst.exited:
		t.Fatalf("serve exited with %d before listening:\n%s", code, inst.logs)
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not listen within 20s:\n%s", inst.logs)
	}
	t.Cleanup(func() { inst.shutdown(t) })
	return inst
}

// shutdown stops the instance (once) and returns its exit code.
func (i *instance) shutdown(t *testing.T) int {
	t.Helper()
	i.stop()
	select {
	case code := <-i.exited:
		i.exited <- code // keep it for a later call
		return code
	case <-time.After(45 * time.Second):
		t.Fatalf("serve did not exit within 45s:\n%s", i.logs)
		return -1
	}
}

// do sends a request and returns the response with its body read.
func do(t *testing.T, method, url string, body io.Reader, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// decodeProblem checks a problem+json response and returns it.
func decodeProblem(t *testing.T, resp *http.Response, body []byte, status int) httpapi.Problem {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q: %s", ct, body)
	}
	var p httpapi.Problem
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("problem body %s: %v", body, err)
	}
	if p.Status != status || p.Title == "" || !strings.HasPrefix(p.Type, "urn:gathering:problem:") || p.Detail == "" {
		t.Fatalf("incomplete problem: %+v", p)
	}
	if p.RequestID == "" || p.RequestID != resp.Header.Get("X-Request-ID") {
		t.Fatalf("problem request_id %q, header %q", p.RequestID, resp.Header.Get("X-Request-ID"))
	}
	return p
}
