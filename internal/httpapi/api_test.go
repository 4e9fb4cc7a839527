package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/builtin/web"
	"github.com/gathering/gathering/internal/circle"
	"github.com/gathering/gathering/internal/conversation"
	"github.com/gathering/gathering/internal/engine"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/goal"
	"github.com/gathering/gathering/internal/memory"
	"github.com/gathering/gathering/internal/netguard"
	"github.com/gathering/gathering/internal/openapi"
	"github.com/gathering/gathering/internal/ratelimit"
	"github.com/gathering/gathering/internal/scheduler"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/sqlitestore"
	"github.com/gathering/gathering/internal/tool"
	"github.com/gathering/gathering/internal/workspace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type setup struct {
	api      *API
	srv      *httptest.Server
	store    store.Store
	toolRuns *atomic.Int64 // runs of the test tools' bodies
}

func newSetup(t testing.TB, opts Options, routes ...Route) setup {
	t.Helper()
	db, err := sqlitestore.Open(t.Context(), sqlitestore.Config{Path: t.TempDir() + "/test.db"})
	if err != nil {
		t.Fatal(err)
	}
	return newSetupOn(t, db, opts, routes...)
}

// newSetupOn serves the API on db (migrated here, closed at cleanup).
func newSetupOn(t testing.TB, db store.Store, opts Options, routes ...Route) setup {
	t.Helper()
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	opts.MaxBodyBytes = cmp.Or(opts.MaxBodyBytes, 1<<20)
	opts.RequestTimeout = max(opts.RequestTimeout, 5*time.Second)
	if opts.Rates == nil {
		generous := ratelimit.Rate{Count: 1_000_000, Per: time.Minute}
		opts.Rates = map[Tier]ratelimit.Rate{TierAuth: generous, TierWrite: generous, TierRead: generous, TierHealth: generous}
	}
	log := slog.New(slog.DiscardHandler)
	svc, err := auth.NewService(auth.Config{Secret: []byte(strings.Repeat("s", 32)), BcryptCost: 10}, db, log)
	if err != nil {
		t.Fatal(err)
	}
	bus := event.NewBus(event.Config{BatchWindows: map[string]time.Duration{"pipeline.progress": 50 * time.Millisecond},
		DedupWindows: map[string]time.Duration{"test.dedup": time.Second}})
	if err := bus.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Stop(context.Background()) })
	reg, toolRuns := testTools(t)
	registerWebTools(t, reg)
	tools := tool.NewExecutor(reg, db, bus, tool.ExecutorOptions{ConfirmTimeout: time.Minute})
	if err := tools.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tools.Stop(context.Background()) })
	seal, agents := testAgents(t, db, tools)
	pipelines := engine.New(db, tools, agents, bus, engine.Options{Instance: "test", Poll: 50 * time.Millisecond})
	if err := pipelines.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopService(t, pipelines) }) // before the executor stops
	tasks := background.New(db, agents, bus, background.Options{Instance: "test", Lease: 3 * time.Second})
	if err := tasks.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopService(t, tasks) }) // before the executor stops
	sched := scheduler.New(db, pipelines, tasks, tools, bus, scheduler.Options{Instance: "test", Lease: 3 * time.Second})
	if err := sched.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopService(t, sched) }) // before the engine and the task runner stop
	circles := circle.New(db, tasks, bus, circle.Options{})
	if err := circles.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopService(t, circles) }) // before the task runner stops
	conversations := conversation.New(db, agents, circles, bus, conversation.Options{Instance: "test", Lease: 3 * time.Second})
	if err := conversations.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopService(t, conversations) }) // before the executor stops
	api, err := New(Deps{Log: log, Store: db, Registry: prometheus.NewRegistry(), Options: opts, Routes: routes,
		Auth: svc, Limiter: ratelimit.NewMemory(1000, time.Now), Bus: bus, Tools: tools, Agents: agents, Sealer: seal,
		Embedder: memory.NewLocal(0), Pipelines: pipelines, Scheduler: sched, Tasks: tasks,
		Workspace: workspace.New(db, filepath.Join(t.TempDir(), "workspaces")),
		Circles:   circles, Conversations: conversations, Goals: goal.New(db, bus, goal.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return setup{api, srv, db, toolRuns}
}

// registerWebTools adds http.request and notify.webhook, which scheduled
// actions call, allowed to reach the tests' loopback servers.
func registerWebTools(t testing.TB, reg *tool.Registry) {
	t.Helper()
	allow, err := netguard.ParseAllowList("127.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range web.Tools(web.Options{AllowList: allow}) {
		if err := reg.Register(tl); err != nil {
			t.Fatal(err)
		}
	}
}

// stopService stops a service within a few seconds: what still runs then
// is cancelled.
func stopService(t testing.TB, s interface{ Stop(context.Context) error }) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Errorf("stop %T: %v", s, err)
	}
}

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	return send(t, "GET", url, header...)
}

func send(t *testing.T, method, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestOpenAPIListsEveryRoute(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	resp, body := get(t, s.srv.URL+"/openapi.json")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /openapi.json: %d", resp.StatusCode)
	}
	if err := openapi.Validate([]byte(body)); err != nil {
		t.Fatalf("document is not valid OpenAPI 3.1: %v", err)
	}
	var doc openapi.Document
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	served := map[string][]string{}
	err := chi.Walk(s.api.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		path, err := openapi.PathTemplate(route)
		served[path] = append(served[path], method)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for path := range served {
		slices.Sort(served[path])
	}
	documented := doc.Paths()
	for path, methods := range served {
		if !slices.Equal(documented[path], methods) {
			t.Errorf("%s: router serves %v, document lists %v", path, methods, documented[path])
		}
	}
	for path, methods := range documented {
		if served[path] == nil {
			t.Errorf("%s %v documented but not served", path, methods)
		}
	}
	if len(served) < 9 {
		t.Errorf("only %d paths served: %v", len(served), served)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	resp, body := get(t, s.srv.URL+"/health")
	var h Health
	if err := json.Unmarshal([]byte(body), &h); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s %v", resp.StatusCode, body, err)
	}
	if h.Status != "ok" || h.Version == "" || h.Database != (DatabaseHealth{Backend: "sqlite", OK: true}) || h.UptimeSeconds < 0 {
		t.Fatalf("health %+v", h)
	}
	if resp, _ := get(t, s.srv.URL+"/health/ready"); resp.StatusCode != 200 {
		t.Fatalf("ready: %d", resp.StatusCode)
	}
	// With the database gone, readiness fails and health says degraded.
	s.store.Close()
	resp, body = get(t, s.srv.URL+"/health/ready")
	if resp.StatusCode != 503 || !strings.Contains(body, "database does not answer") {
		t.Fatalf("ready without a database: %d %s", resp.StatusCode, body)
	}
	_, body = get(t, s.srv.URL+"/health")
	if !strings.Contains(body, `"status":"degraded"`) || !strings.Contains(body, `"ok":false`) {
		t.Fatalf("health without a database: %s", body)
	}
	if resp, _ := get(t, s.srv.URL+"/health/live"); resp.StatusCode != 200 {
		t.Fatalf("live without a database: %d", resp.StatusCode)
	}
	s.api.BeginShutdown()
	_, body = get(t, s.srv.URL+"/health")
	if !strings.Contains(body, `"status":"stopping"`) {
		t.Fatalf("health while stopping: %s", body)
	}
}

func TestSecurityHeadersAndDocs(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	resp, _ := get(t, s.srv.URL+"/health/live")
	for header, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		"Cache-Control":           "no-store",
	} {
		if got := resp.Header.Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	resp, _ = get(t, s.srv.URL+"/docs")
	if resp.StatusCode != http.StatusMovedPermanently {
		t.Fatalf("/docs: %d", resp.StatusCode)
	}
	resp, body := get(t, s.srv.URL+"/docs/")
	if resp.StatusCode != 200 || !strings.Contains(body, "docs.js") || resp.Header.Get("Content-Security-Policy") != openapi.DocsCSP {
		t.Fatalf("/docs/: %d csp %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	for _, asset := range []string{"/docs/docs.js", "/docs/docs.css"} {
		if resp, _ := get(t, s.srv.URL+asset); resp.StatusCode != 200 {
			t.Errorf("%s: %d", asset, resp.StatusCode)
		}
	}
	resp, _ = get(t, s.srv.URL+"/", "Accept", "text/html")
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/docs/" {
		t.Errorf("browser at /: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = get(t, s.srv.URL+"/", "Accept", "application/json")
	if !strings.Contains(body, `"openapi":"/openapi.json"`) {
		t.Errorf("API info: %s", body)
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{CORSOrigins: []string{"https://app.example"}})
	preflight := []string{"Origin", "https://app.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type"}
	resp, _ := send(t, "OPTIONS", s.srv.URL+"/health", preflight...)
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Fatalf("allowed preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = send(t, "OPTIONS", s.srv.URL+"/health", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = get(t, s.srv.URL+"/health/live", "Origin", "https://evil.example")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign simple request: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = get(t, s.srv.URL+"/health/live", "Origin", "https://app.example")
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-Request-ID") {
		t.Fatalf("allowed simple request: %v", resp.Header)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	const scrape = "scrape-token-0123456789"
	s := newSetup(t, Options{MetricsToken: scrape})
	get(t, s.srv.URL+"/health/live")
	get(t, s.srv.URL+"/no/such/thing")
	if resp, _ := get(t, s.srv.URL+"/metrics"); resp.StatusCode != 401 {
		t.Fatalf("/metrics without a token: %d", resp.StatusCode)
	}
	if resp, _ := get(t, s.srv.URL+"/metrics", "Authorization", "Bearer wrong-token-0123456789"); resp.StatusCode != 401 {
		t.Fatalf("/metrics with a wrong token: %d", resp.StatusCode)
	}
	resp, body := get(t, s.srv.URL+"/metrics", "Authorization", "Bearer "+scrape)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`gathering_http_requests_total{method="GET",route="/health/live",status="200"} 1`,
		`gathering_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`gathering_http_request_duration_seconds_bucket{method="GET",route="/health/live",status="200",le="0.1"}`,
		`gathering_http_requests_in_flight 1`,
		`gathering_db_pool_max_connections{backend="sqlite"}`,
		`gathering_db_pool_open_connections{backend="sqlite"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestDefaultBodyLimit(t *testing.T) {
	t.Parallel()
	sink := Route{Method: "POST", Pattern: "/t/sink", Summary: "read the body", Tag: "test", Access: Public,
		Handler: HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			var v map[string]string
			if err := DecodeJSON(r, &v); err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, v)
			return nil
		})}
	s := newSetup(t, Options{MaxBodyBytes: 1024}, sink)
	body := func(n int) string { return `{"k":"` + strings.Repeat("x", n-len(`{"k":""}`)) + `"}` }
	for size, want := range map[int]int{1024: 200, 1025: 413} {
		resp, err := http.Post(s.srv.URL+"/t/sink", "application/json", strings.NewReader(body(size)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%d-byte body: %d, want %d", size, resp.StatusCode, want)
		}
	}
}
