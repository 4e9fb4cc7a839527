package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/tool"
)

// stdioServer is the path of testdata/stdioserver, built once by TestMain.
var stdioServer string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gathering-mcp-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	stdioServer = filepath.Join(dir, "stdioserver")
	if out, err := exec.Command("go", "build", "-o", stdioServer, "./testdata/stdioserver").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build testdata/stdioserver: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { os.RemoveAll(dir) }))
}

// syncBuffer is a log destination safe for the client's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startClient starts a Client with short backoffs, its own HTTP transport
// and the changes of tune, and stops it at the end of the test. The log
// goes to logs and is shown when the test fails.
func startClient(t *testing.T, servers []Server, reg *tool.Registry, logs *syncBuffer, tune ...func(*Options)) *Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	opts := Options{
		Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		HTTPClient: &http.Client{Transport: tr},
		Timeout:    5 * time.Second,
		MinBackoff: 20 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond,
	}
	for _, f := range tune {
		f(&opts)
	}
	c := New(servers, reg, opts)
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if t.Failed() {
			t.Logf("client log:\n%s", logs)
		}
	})
	return c
}

// call calls a tool as an administrator.
func call(reg *tool.Registry, name, input string) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return reg.Call(ctx, tool.UserCaller(gathering.RoleAdmin), name, json.RawMessage(input))
}

// mustCall calls a tool and fails the test unless it succeeds.
func mustCall(t *testing.T, reg *tool.Registry, name, input string) string {
	t.Helper()
	out, err := call(reg, name, input)
	if err != nil {
		t.Fatalf("%s %s: %v", name, input, err)
	}
	return string(out)
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// usable reports whether the tool answers a call with input.
func usable(reg *tool.Registry, name, input string) func() bool {
	return func() bool { _, err := call(reg, name, input); return err == nil }
}

// testServer is an MCP server over Streamable HTTP on loopback.
type testServer struct {
	srv       *sdk.Server
	hs        *httptest.Server
	calls     atomic.Int64 // tools/call requests that reached the HTTP handler
	rejectGET atomic.Bool  // answer 405 to GET: no standalone event stream
	once      sync.Once
}

// startTestServer serves srv on addr ("127.0.0.1:0" for any port) until
// the end of the test.
func startTestServer(t *testing.T, addr string, srv *sdk.Server) *testServer {
	t.Helper()
	ts := &testServer{srv: srv}
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv }, nil)
	ts.hs = httptest.NewUnstartedServer(ts.count(h))
	ts.hs.Listener.Close()
	ts.hs.Listener = listen(t, addr)
	ts.hs.Start()
	t.Cleanup(ts.close)
	return ts
}

// listen listens on addr, retrying briefly while a previous server's port
// is being released.
func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	var err error
	for range 100 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("listen on %s: %v", addr, err)
	return nil
}

// count counts the tools/call requests before handing them to h, and
// refuses GET when rejectGET is set.
func (ts *testServer) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && ts.rejectGET.Load() {
			http.Error(w, "no event stream", http.StatusMethodNotAllowed)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte(`"tools/call"`)) {
			ts.calls.Add(1)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
}

// close stops the server the way a crash would: connections dropped,
// sessions gone.
func (ts *testServer) close() {
	ts.once.Do(func() {
		ts.hs.CloseClientConnections()
		for ss := range ts.srv.Sessions() {
			ss.Close()
		}
		ts.hs.Close()
	})
}

// errorCode is the gathering code of err, with its message for failures.
func errorCode(err error) string {
	if err == nil {
		return "ok"
	}
	return gathering.ErrorCode(err)
}

// fieldsOf lists the JSON pointers of err's field errors.
func fieldsOf(err error) string {
	var fs []string
	for _, f := range gathering.ErrorFields(err) {
		fs = append(fs, f.Field)
	}
	return strings.Join(fs, ",")
}
