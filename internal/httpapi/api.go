// Package httpapi is GatheRing's JSON API: the route table, the middleware
// chain every request passes through, one error format (RFC 9457 problem
// details), health probes, metrics and the OpenAPI document generated from
// the same route table the router serves.
package httpapi

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/circle"
	"github.com/gathering/gathering/internal/conversation"
	"github.com/gathering/gathering/internal/engine"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/goal"
	"github.com/gathering/gathering/internal/memory"
	"github.com/gathering/gathering/internal/ratelimit"
	"github.com/gathering/gathering/internal/scheduler"
	"github.com/gathering/gathering/internal/sealer"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
	"github.com/gathering/gathering/internal/workspace"
)

// Options are the HTTP settings of the API.
type Options struct {
	CORSOrigins    []string      // allowed browser origins; "*" allows any
	MaxBodyBytes   int64         // default request body limit
	RequestTimeout time.Duration // default request deadline
	LogBodies      bool          // log request bodies (redacted) at debug level

	Rates                 map[Tier]ratelimit.Rate // the rate of each tier
	TrustedProxies        []netip.Prefix          // proxies whose X-Forwarded-For is believed
	MetricsToken          string                  // lets a scraper read /metrics
	OpenRegistration      bool                    // anyone may register
	AuthDisabled          bool                    // development only: no credentials means admin
	MaxConnectionsPerUser int                     // WebSocket connections one user may hold; 0 → 20
	Streams               StreamTimings           // WebSocket and SSE clocks
}

// Deps are what the API is built from.
type Deps struct {
	Log      *slog.Logger
	Store    store.Store
	Registry *prometheus.Registry // the process's metrics; the API adds its own
	Auth     *auth.Service
	Limiter  ratelimit.Limiter
	Bus      *event.Bus // live events for /ws and /events
	// Tools runs tool calls; nil leaves the /tools routes out.
	Tools *tool.Executor
	// MCP reports the sessions to MCP servers; nil when none are configured.
	MCP MCPStatus
	// Agents runs chat turns; nil leaves the catalog and agent routes out.
	Agents *agent.Service
	// Sealer encrypts provider keys; required with Agents.
	Sealer *sealer.Sealer
	// Embedder embeds agents' memories and the knowledge base; nil leaves
	// the /memories routes out.
	Embedder memory.Embedder
	// Pipelines executes pipeline runs; nil leaves the run routes out
	// (pipeline definitions are served with Tools).
	Pipelines *engine.Engine
	// Scheduler fires scheduled actions; nil leaves the
	// /scheduled-actions routes out.
	Scheduler *scheduler.Scheduler
	// Tasks runs background agent tasks; nil leaves the
	// /background-tasks routes out.
	Tasks *background.Runner
	// Workspace serves projects' directories; nil leaves the /projects
	// and /workspace routes out.
	Workspace *workspace.Service
	// Circles runs circles and their tasks; nil leaves the /circles
	// routes out.
	Circles *circle.Service
	// Conversations runs conversations between agents; nil leaves the
	// /conversations routes out.
	Conversations *conversation.Service
	// Goals keeps agents' goals; nil leaves the /goals routes out.
	Goals   *goal.Service
	Options Options
	// Routes added after the built-in ones; the tests of this layer use it
	// to reach the middleware with handlers of their own.
	Routes []Route
}

// API is the HTTP handler of the whole JSON API.
type API struct {
	log           *slog.Logger
	store         store.Store
	registry      *prometheus.Registry
	opts          Options
	metrics       *httpMetrics
	auth          *auth.Service
	limiter       ratelimit.Limiter
	auditGate     *ratelimit.Memory // bounds the HTTP layer's audit writes
	bus           *event.Bus
	tools         *tool.Executor
	mcp           MCPStatus
	agents        *agent.Service
	sealer        *sealer.Sealer
	embedder      memory.Embedder
	pipelines     *engine.Engine        // nil: no run routes
	scheduler     *scheduler.Scheduler  // nil: no scheduled-action routes
	tasks         *background.Runner    // nil: no background-task routes
	workspace     *workspace.Service    // nil: no project and workspace routes
	circles       *circle.Service       // nil: no circle routes
	conversations *conversation.Service // nil: no conversation routes
	goals         *goal.Service         // nil: no goal routes
	hub           *hub
	streamsEnd    chan struct{} // closed when the server stops: streams end
	endOnce       sync.Once
	started       time.Time
	shuttingDown  atomic.Bool
	routes        []Route
	router        *chi.Mux
	openapi       []byte
}

// maxAuditCallers bounds the memory of the audit gate.
const maxAuditCallers = 10_000

// New builds the API and its router.
func New(d Deps) (*API, error) {
	a := &API{
		log:           d.Log,
		store:         d.Store,
		registry:      d.Registry,
		opts:          d.Options,
		metrics:       newHTTPMetrics(d.Registry),
		auth:          d.Auth,
		limiter:       d.Limiter,
		auditGate:     ratelimit.NewMemory(maxAuditCallers, nil),
		bus:           d.Bus,
		tools:         d.Tools,
		mcp:           d.MCP,
		agents:        d.Agents,
		sealer:        d.Sealer,
		embedder:      d.Embedder,
		pipelines:     d.Pipelines,
		scheduler:     d.Scheduler,
		tasks:         d.Tasks,
		workspace:     d.Workspace,
		circles:       d.Circles,
		conversations: d.Conversations,
		goals:         d.Goals,
		hub:           newHub(),
		streamsEnd:    make(chan struct{}),
		started:       time.Now(),
	}
	a.opts.MaxConnectionsPerUser = cmp.Or(a.opts.MaxConnectionsPerUser, 20)
	a.opts.Streams = a.opts.Streams.withDefaults()
	d.Registry.MustRegister(newPoolCollector(d.Store))
	a.routes = slices.Concat(a.builtinRoutes(), a.toolRoutes(), a.catalogRoutes(), a.agentRoutes(), a.memoryRoutes(), a.pipelineRoutes(), a.runRoutes(), a.scheduleRoutes(), a.taskRoutes(), a.projectRoutes(), a.workspaceRoutes(), a.gitRoutes(), a.activityRoutes(), a.circleRoutes(), a.conversationRoutes(), a.goalRoutes(), d.Routes)
	if err := checkDeclarations(a.routes); err != nil {
		return nil, err
	}
	doc, err := a.buildOpenAPI()
	if err != nil {
		return nil, err
	}
	a.openapi = doc
	a.router = a.newRouter()
	return a, nil
}

// checkDeclarations refuses a route table where a route does not say who
// may call it.
func checkDeclarations(routes []Route) error {
	var missing []string
	for _, rt := range routes {
		if rt.Access == accessUndeclared {
			missing = append(missing, rt.Method+" "+rt.Pattern)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("routes without an access declaration: %s", strings.Join(missing, ", "))
	}
	return nil
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.router.ServeHTTP(w, r) }

// BeginShutdown turns readiness to 503 at once; the server keeps serving
// while load balancers notice.
func (a *API) BeginShutdown() { a.shuttingDown.Store(true) }

// EndStreams ends every WebSocket (1001) and event stream: the server is
// about to wait for in-flight requests, and a stream would never finish.
// Clients reconnect elsewhere and resume with since / Last-Event-ID.
func (a *API) EndStreams() { a.endOnce.Do(func() { close(a.streamsEnd) }) }

// Routes returns the route table, in registration order.
func (a *API) Routes() []Route { return a.routes }
