package httpapi

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/gathering/gathering/internal/openapi"
)

// Route is one entry of the API's table of contents. The router and the
// OpenAPI document are both built from the table, so they cannot disagree.
type Route struct {
	Method  string
	Pattern string // chi pattern: /pipelines/{id}
	Summary string
	Tag     string
	Handler http.Handler
	ID      string // OpenAPI operationId; derived from method and path when empty
	// WebSocket, when set, serves the route instead of Handler, behind the
	// one WebSocket authentication step (see webSocket).
	WebSocket WebSocketHandler
	Access    Access // who may call it; required
	Tier      Tier   // rate-limit tier; from the method when zero

	Request     any    // zero value of the JSON request body, nil when none
	Response    any    // zero value of the success body, nil when none
	Status      int    // success status; 200 when zero
	ContentType string // success media type; application/json when empty

	BodyLimit int64         // request body limit; the API default when zero
	Timeout   time.Duration // request deadline; the default when zero, none when negative
}

// HandlerFunc is a handler that returns its error, which is answered as a
// problem response (and, when internal, logged on the access line).
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP implements http.Handler.
func (fn HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := fn(w, r); err != nil {
		writeError(w, r, err)
	}
}

// builtinRoutes is the table of contents of the API.
func (a *API) builtinRoutes() []Route {
	docs := openapi.DocsHandler(openapi.DefaultSpecURL)
	return []Route{
		{Method: "GET", Access: Public, Tier: TierHealth, Pattern: "/", Summary: "API information (browsers are sent to the docs)", Tag: "meta", Handler: HandlerFunc(a.root), Response: Info{}},
		{Method: "GET", Access: Public, Tier: TierHealth, Pattern: "/health", Summary: "Health summary", Tag: "health", Handler: HandlerFunc(a.health), Response: Health{}},
		{Method: "GET", Access: Public, Tier: TierHealth, Pattern: "/health/live", Summary: "Liveness: 200 while the process runs", Tag: "health", Handler: HandlerFunc(a.live), Response: Status{}},
		{Method: "GET", Access: Public, Tier: TierHealth, Pattern: "/health/ready", Summary: "Readiness: 200 when the database answers and the server is not stopping", Tag: "health", Handler: HandlerFunc(a.ready), Response: Status{}},
		{Method: "GET", Access: Scraper, Pattern: "/metrics", Summary: "Prometheus metrics", Tag: "meta", Handler: a.metricsHandler(), Response: "", ContentType: "text/plain; version=0.0.4", Timeout: -1},
		{Method: "GET", Access: Public, Pattern: "/openapi.json", Summary: "This API's OpenAPI 3.1 document", Tag: "meta", Handler: HandlerFunc(a.openAPI), Response: map[string]any{}},
		{Method: "GET", Access: Public, Pattern: "/docs", Summary: "Browsable API documentation (redirects to /docs/)", Tag: "meta", Handler: docs, Status: http.StatusMovedPermanently},
		{Method: "GET", Access: Public, Pattern: "/docs/", ID: "getDocsPage", Summary: "Browsable API documentation", Tag: "meta", Handler: docs, Response: "", ContentType: "text/html"},
		{Method: "GET", Access: Public, Pattern: "/docs/docs.js", Summary: "Script of the documentation page", Tag: "meta", Handler: docs, Response: "", ContentType: "text/javascript"},
		{Method: "GET", Access: Public, Pattern: "/docs/docs.css", Summary: "Style sheet of the documentation page", Tag: "meta", Handler: docs, Response: "", ContentType: "text/css"},

		// Identity.
		{Method: "POST", Pattern: "/auth/register", Access: Public, Tier: TierAuth, Handler: HandlerFunc(a.register), Request: RegisterRequest{}, Response: UserResponse{}, Status: http.StatusCreated, Tag: "auth", Summary: "Create an account (403 when registration is closed)"},
		{Method: "POST", Pattern: "/auth/login", Access: Public, Tier: TierAuth, Handler: HandlerFunc(a.loginForm), Response: TokenResponse{}, Tag: "auth", Summary: "Log in with a form (username, password), as the OAuth2 password flow"},
		{Method: "POST", Pattern: "/auth/login/json", Access: Public, Tier: TierAuth, Handler: HandlerFunc(a.loginJSON), Request: LoginRequest{}, Response: TokenResponse{}, Tag: "auth", Summary: "Log in with JSON"},
		{Method: "POST", Pattern: "/auth/refresh", Access: Public, Tier: TierAuth, Handler: HandlerFunc(a.refresh), Request: RefreshRequest{}, Response: TokenResponse{}, Tag: "auth", Summary: "Trade a refresh token for a new pair (the old one stops working)"},
		{Method: "POST", Pattern: "/auth/verify", Access: Public, Handler: HandlerFunc(a.verify), Response: VerifyResponse{}, Tag: "auth", Summary: "Tell whether the bearer token is valid"},
		{Method: "GET", Pattern: "/auth/me", Access: Viewer, Handler: HandlerFunc(a.me), Response: UserResponse{}, Tag: "auth", Summary: "The authenticated user"},
		{Method: "POST", Pattern: "/auth/logout", Access: Viewer, Handler: HandlerFunc(a.logout), Status: http.StatusNoContent, Tag: "auth", Summary: "Revoke this access token and its refresh tokens"},
		{Method: "POST", Pattern: "/auth/api-keys", Access: Viewer, Handler: HandlerFunc(a.createAPIKey), Request: APIKeyRequest{}, Response: CreatedAPIKey{}, Status: http.StatusCreated, Tag: "auth", Summary: "Create a personal API key (shown once)"},
		{Method: "GET", Pattern: "/auth/api-keys", Access: Viewer, Handler: HandlerFunc(a.listAPIKeys), Response: List[APIKeyResponse]{}, Tag: "auth", Summary: "Your API keys (admins: ?all=true for everyone's)"},
		{Method: "DELETE", Pattern: "/auth/api-keys/{id}", Access: Viewer, Handler: HandlerFunc(a.revokeAPIKey), Status: http.StatusNoContent, Tag: "auth", Summary: "Revoke an API key (yours; admins: any)"},

		// Live events.
		{Method: "GET", Pattern: "/ws", Access: Viewer, WebSocket: a.serveEvents, Tag: "events", Summary: "Live events over a WebSocket (subscribe, unsubscribe, ping, info; ?since= resumes)"},
		{Method: "GET", Pattern: "/events", Access: Viewer, Handler: HandlerFunc(a.streamEvents), Response: "", ContentType: "text/event-stream", Timeout: -1, Tag: "events", Summary: "Live events as server-sent events (?topics=, ?types=, ?since= or Last-Event-ID)"},
		{Method: "GET", Pattern: "/ws/stats", Access: Admin, Handler: HandlerFunc(a.webSocketStats), Response: WebSocketStats{}, Tag: "events", Summary: "WebSocket connections, frames sent, drops and lag"},

		// Administration.
		{Method: "GET", Pattern: "/users", Access: Admin, Handler: HandlerFunc(a.listUsers), Response: List[UserResponse]{}, Tag: "users", Summary: "List users"},
		{Method: "GET", Pattern: "/users/{id}", Access: Admin, Handler: HandlerFunc(a.getUser), Response: UserResponse{}, Tag: "users", Summary: "One user"},
		{Method: "PATCH", Pattern: "/users/{id}", Access: Admin, Handler: HandlerFunc(a.patchUser), Request: UserPatch{}, Response: UserResponse{}, Tag: "users", Summary: "Rename, change the role, (de)activate"},
		{Method: "DELETE", Pattern: "/users/{id}", Access: Admin, Handler: HandlerFunc(a.deactivateUser), Status: http.StatusNoContent, Tag: "users", Summary: "Deactivate a user (accounts are never erased)"},
		{Method: "GET", Pattern: "/audit", Access: Admin, Handler: HandlerFunc(a.listAudit), Response: List[AuditEventResponse]{}, Tag: "audit", Summary: "The audit trail, newest first (event, actor, since, until, limit, offset)"},
	}
}

// newRouter registers every route with its own limits, behind the shared
// middleware chain, and the problem responses for unknown routes and methods.
func (a *API) newRouter() *chi.Mux {
	r := chi.NewRouter()
	r.Use(requestID, a.observe, a.recoverPanic, securityHeaders, cors(a.opts.CORSOrigins), a.resolveClient)
	if a.opts.LogBodies {
		r.Use(a.logBody)
	}
	for _, rt := range a.routes {
		if rt.WebSocket != nil {
			r.With(a.limitOnly(rt)).Method(rt.Method, rt.Pattern, a.webSocket(rt.Access, rt.WebSocket))
			continue
		}
		r.With(a.routeLimits(rt)...).Method(rt.Method, rt.Pattern, rt.Handler)
	}
	r.NotFound(func(w http.ResponseWriter, req *http.Request) {
		writeProblem(w, req, codeRouteNotFound, "No route matches "+req.URL.Path+".", nil)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		allowed := a.allowedMethods(r, req.URL.Path)
		w.Header().Set("Allow", allowed)
		writeProblem(w, req, codeMethodNotAllowed, req.Method+" is not allowed on "+req.URL.Path+"; allowed: "+allowed+".", nil)
	})
	return r
}

func (a *API) routeLimits(rt Route) []func(http.Handler) http.Handler {
	limit := rt.BodyLimit
	if limit == 0 {
		limit = a.opts.MaxBodyBytes
	}
	mw := []func(http.Handler) http.Handler{a.guard(rt), limitBody(limit)}
	timeout := rt.Timeout
	if timeout == 0 {
		timeout = a.opts.RequestTimeout
	}
	if timeout > 0 {
		mw = append(mw, deadline(timeout))
	}
	return mw
}

// allowedMethods lists the methods some route serves for path.
func (a *API) allowedMethods(r *chi.Mux, path string) string {
	var allowed string
	seen := map[string]bool{}
	for _, rt := range a.routes {
		if seen[rt.Method] || !r.Match(chi.NewRouteContext(), rt.Method, path) {
			continue
		}
		seen[rt.Method] = true
		if allowed != "" {
			allowed += ", "
		}
		allowed += rt.Method
	}
	return allowed
}
