package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/httpapi"
)

// echoRequest is the body of the test-only echo route.
type echoRequest struct {
	Name     string `json:"name"`
	Count    int    `json:"count"`
	Password string `json:"password,omitempty"`
}

func (r echoRequest) Validate() error {
	if r.Count < 0 {
		return gathering.Invalid("The echo request is invalid.", gathering.FieldError{Field: "count", Message: "must not be negative"})
	}
	return nil
}

// testRoutes reach the real middleware chain with handlers of the tests' own.
func testRoutes(slowStarted chan<- struct{}) []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Pattern: "/test/echo", Summary: "echo", Tag: "test", Access: httpapi.Public, BodyLimit: 256, Request: echoRequest{}, Response: echoRequest{},
			Handler: httpapi.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				var req echoRequest
				if err := httpapi.DecodeJSON(r, &req); err != nil {
					return err
				}
				return json.NewEncoder(w).Encode(req)
			})},
		{Method: "GET", Pattern: "/test/panic", Summary: "panic", Tag: "test", Access: httpapi.Public,
			Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("internal detail: table users is broken") })},
		{Method: "GET", Pattern: "/test/wait", Summary: "wait for the deadline", Tag: "test", Access: httpapi.Public,
			Handler: httpapi.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				<-r.Context().Done()
				return r.Context().Err()
			})},
		{Method: "GET", Pattern: "/test/slow", Summary: "slow", Tag: "test", Access: httpapi.Public,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if slowStarted != nil {
					slowStarted <- struct{}{}
				}
				select {
				case <-time.After(2 * time.Second):
					w.Write([]byte("done"))
				case <-r.Context().Done(): // the server cut the connection
				}
			})},
	}
}

func TestProblemResponses(t *testing.T) {
	t.Parallel()
	srv := startServe(t, nil, testRoutes(nil)...)
	echo := srv.url + "/test/echo"
	cases := []struct {
		name, method, url, body, contentType string
		status                               int
		field                                string
	}{
		{"malformed JSON", "POST", echo, `{"name":`, "application/json", 400, ""},
		{"syntax error", "POST", echo, `{"name" "x"}`, "application/json", 400, ""},
		{"empty body", "POST", echo, ``, "application/json", 400, ""},
		{"two values", "POST", echo, `{} {}`, "application/json", 400, ""},
		{"unknown route", "GET", srv.url + "/no/such/route", ``, "", 404, ""},
		{"wrong method", "DELETE", srv.url + "/health", ``, "", 405, ""},
		{"too large", "POST", echo, `{"name":"` + strings.Repeat("x", 300) + `"}`, "application/json", 413, ""},
		{"not JSON", "POST", echo, `name=x`, "application/x-www-form-urlencoded", 415, ""},
		{"unknown field", "POST", echo, `{"name":"x","colour":"red"}`, "application/json", 422, "colour"},
		{"wrong type", "POST", echo, `{"count":"three"}`, "application/json", 422, "count"},
		{"own validation", "POST", echo, `{"count":-1}`, "application/json", 422, "count"},
		{"panic", "GET", srv.url + "/test/panic", ``, "", 500, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.method, tc.url, strings.NewReader(tc.body), "Content-Type", tc.contentType)
			p := decodeProblem(t, resp, body, tc.status)
			if tc.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tc.field || p.Errors[0].Message == "") {
				t.Errorf("errors %+v, want one naming %q", p.Errors, tc.field)
			}
			if tc.status == 405 && resp.Header.Get("Allow") != "GET" {
				t.Errorf("Allow %q", resp.Header.Get("Allow"))
			}
			if tc.status == 500 && strings.Contains(string(body), "users") {
				t.Errorf("500 shows internals: %s", body)
			}
		})
	}
	resp, body := do(t, "POST", echo, strings.NewReader(`{"name":"ok","count":2}`), "Content-Type", "application/json")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"count":2`) {
		t.Fatalf("valid echo: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(srv.logs.String(), "table users is broken") || !strings.Contains(srv.logs.String(), "goroutine") {
		t.Errorf("the panic and its stack are not in the log")
	}
}

func TestOversizedBodyWithoutContentLength(t *testing.T) {
	t.Parallel()
	srv := startServe(t, nil, testRoutes(nil)...)
	// A chunked body has no Content-Length: the limit applies while reading.
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(`{"name":"` + strings.Repeat("y", 1000) + `"}`))
		pw.Close()
	}()
	resp, body := do(t, "POST", srv.url+"/test/echo", pr, "Content-Type", "application/json")
	p := decodeProblem(t, resp, body, 413)
	if !strings.Contains(p.Detail, "256 bytes") {
		t.Errorf("detail %q does not state the limit", p.Detail)
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	srv := startServe(t, nil)
	generated := regexp.MustCompile(`^[0-9a-f]{24}$`)
	for _, tc := range []struct{ sent, want string }{
		{"client-id_1.2", "client-id_1.2"},
		{strings.Repeat("a", 128), strings.Repeat("a", 128)},
		{strings.Repeat("a", 129), ""},
		{"bad id with spaces", ""},
		{"", ""},
	} {
		resp, _ := do(t, "GET", srv.url+"/health/live", nil, "X-Request-ID", tc.sent)
		got := resp.Header.Get("X-Request-ID")
		if tc.want != "" && got != tc.want || tc.want == "" && !generated.MatchString(got) {
			t.Errorf("sent %q, got %q", tc.sent, got)
		}
		if !strings.Contains(srv.logs.String(), `"request_id":"`+got+`"`) {
			t.Errorf("no log line carries request id %q", got)
		}
	}
}

func TestNoSecretsInLogs(t *testing.T) {
	t.Parallel()
	secrets := []string{"bearer-tok-8d7f", "cookie-val-19ab", "pass-word-77x", "signing-key-0123456789abcdef0123456789", "query-tok-55e"}
	srv := startServe(t, map[string]string{"GATHERING_LOG_BODIES": "true", "SECRET_KEY": secrets[3]}, testRoutes(nil)...)
	do(t, "POST", srv.url+"/test/echo", strings.NewReader(`{"name":"ann","password":"`+secrets[2]+`"}`),
		"Content-Type", "application/json", "Authorization", "Bearer "+secrets[0], "Cookie", "session="+secrets[1])
	do(t, "GET", srv.url+"/health?access_token="+secrets[4], nil, "Authorization", "Bearer "+secrets[0])
	do(t, "GET", srv.url+"/test/panic", nil, "Authorization", "Bearer "+secrets[0])
	srv.shutdown(t)
	logs := srv.logs.String()
	if !strings.Contains(logs, `"msg":"request body"`) || !strings.Contains(logs, "ann") {
		t.Fatalf("body logging is not on, the test proves nothing:\n%s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("log contains secret %q", s)
		}
	}
}

func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{}, 1)
	srv := startServe(t, map[string]string{"GATHERING_SHUTDOWN_DRAIN": "500ms"}, testRoutes(started)...)
	type result struct {
		status int
		body   string
		err    error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get(srv.url + "/test/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		slow <- result{resp.StatusCode, string(b), err}
	}()
	<-started
	begin := time.Now()
	srv.stop() // what the first SIGTERM does
	// During the drain the listener still answers, and readiness is 503.
	time.Sleep(100 * time.Millisecond)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(srv.url + "/health/ready")
	if err != nil {
		t.Fatalf("listener closed during the drain: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	p := decodeProblem(t, resp, body, 503)
	if !strings.Contains(p.Detail, "shutting down") || resp.Header.Get("Retry-After") == "" {
		t.Errorf("readiness during shutdown: %+v", p)
	}
	r := <-slow
	if r.err != nil || r.status != 200 || r.body != "done" {
		t.Fatalf("in-flight request: %+v", r)
	}
	if code := srv.shutdown(t); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, srv.logs)
	}
	if elapsed := time.Since(begin); elapsed > 10*time.Second {
		t.Errorf("shutdown took %s", elapsed)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(srv.url, "http://"), time.Second); err == nil {
		t.Error("the listener is still open after exit")
	}
	// goleak in TestMain checks that nothing the server started survives.
}

func TestShutdownDeadlineCutsOffRequests(t *testing.T) {
	started := make(chan struct{}, 1)
	srv := startServe(t, map[string]string{"GATHERING_SHUTDOWN_TIMEOUT": "300ms"}, testRoutes(started)...)
	failed := make(chan error, 1)
	go func() {
		resp, err := http.Get(srv.url + "/test/slow")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		failed <- err
	}()
	<-started
	if code := srv.shutdown(t); code != exitError {
		t.Fatalf("exit code %d after cutting off a request, want %d", code, exitError)
	}
	if !strings.Contains(srv.logs.String(), "did not finish before the shutdown deadline") {
		t.Errorf("the cut-off is not logged:\n%s", srv.logs)
	}
	if err := <-failed; err == nil {
		t.Errorf("the cut-off request succeeded")
	}
}

func TestRequestDeadline(t *testing.T) {
	t.Parallel()
	srv := startServe(t, map[string]string{"GATHERING_REQUEST_TIMEOUT": "200ms"}, testRoutes(nil)...)
	start := time.Now()
	resp, body := do(t, "GET", srv.url+"/test/wait", nil)
	p := decodeProblem(t, resp, body, 503)
	if !strings.Contains(p.Detail, "did not finish in time") || time.Since(start) > 5*time.Second {
		t.Fatalf("after %s: %+v", time.Since(start), p)
	}
}

func TestSlowHeadersAreCutOff(t *testing.T) {
	t.Parallel()
	srv := startServe(t, map[string]string{"GATHERING_READ_HEADER_TIMEOUT": "300ms"})
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A slowloris client: a request line, then headers that never end.
	conn.Write([]byte("GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: "))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(conn) // the server closes the connection
	if err != nil || time.Since(start) > 3*time.Second {
		t.Fatalf("connection held for %s (%v)", time.Since(start), err)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	srv := startServe(t, map[string]string{"GATHERING_METRICS_TOKEN": "scrape-scrape-scrape"})
	do(t, "GET", srv.url+"/health", nil)
	resp, body := do(t, "GET", srv.url+"/metrics", nil, "Authorization", "Bearer scrape-scrape-scrape")
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{`gathering_http_requests_total{method="GET",route="/health",status="200"} 1`,
		"gathering_http_request_duration_seconds_bucket", "gathering_http_requests_in_flight",
		`gathering_db_pool_max_connections{backend="sqlite"}`, "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestShutdownEndsEventStreams: open WebSocket and SSE streams do not hold
// the shutdown up until its deadline; they end, and serve exits 0.
func TestShutdownEndsEventStreams(t *testing.T) {
	srv := startServe(t, map[string]string{"GATHERING_AUTH_DISABLED": "true"})
	conn, _, err := websocket.Dial(t.Context(), "ws"+strings.TrimPrefix(srv.url, "http")+"/ws?topics=*", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	resp, err := http.Get(srv.url + "/events?topics=*")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("SSE: %v %v", resp, err)
	}
	defer resp.Body.Close()
	begin := time.Now()
	if code := srv.shutdown(t); code != 0 {
		t.Fatalf("exit %d with open streams:\n%s", code, srv.logs)
	}
	if elapsed := time.Since(begin); elapsed > 5*time.Second {
		t.Fatalf("shutdown with open streams took %s", elapsed)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Errorf("SSE stream did not end cleanly: %v", err)
	}
	for {
		if _, _, err := conn.Read(t.Context()); err != nil {
			if websocket.CloseStatus(err) != websocket.StatusGoingAway {
				t.Errorf("WebSocket closed with %v, want 1001", err)
			}
			break
		}
	}
}
