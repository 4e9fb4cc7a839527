package httpapi

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
)

// probeTimeout bounds the database check of a health probe.
const probeTimeout = 2 * time.Second

// Info is the API's self-description at GET /.
type Info struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Docs    string `json:"docs" doc:"browsable API documentation"`
	OpenAPI string `json:"openapi" doc:"OpenAPI 3.1 document"`
	Health  string `json:"health"`
}

// Health is the answer of GET /health.
type Health struct {
	Status        string         `json:"status" enum:"ok,degraded,stopping" doc:"ok; degraded when the database does not answer; stopping during shutdown"`
	Version       string         `json:"version"`
	UptimeSeconds float64        `json:"uptime_seconds"`
	Database      DatabaseHealth `json:"database"`
}

// DatabaseHealth tells which storage backend serves and whether it answers.
type DatabaseHealth struct {
	Backend string `json:"backend" enum:"postgres,sqlite"`
	OK      bool   `json:"ok"`
}

// Status is the answer of a probe that passes.
type Status struct {
	Status string `json:"status"`
}

func (a *API) root(w http.ResponseWriter, r *http.Request) error {
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		http.Redirect(w, r, "/docs/", http.StatusFound)
		return nil
	}
	writeJSON(w, http.StatusOK, Info{Name: "GatheRing", Version: gathering.Build().Version, Docs: "/docs/", OpenAPI: "/openapi.json", Health: "/health"})
	return nil
}

func (a *API) health(w http.ResponseWriter, r *http.Request) error {
	h := Health{
		Status:        "ok",
		Version:       gathering.Build().Version,
		UptimeSeconds: math.Round(time.Since(a.started).Seconds()*1000) / 1000,
		Database:      DatabaseHealth{Backend: string(a.store.Backend()), OK: a.pingDatabase(r.Context()) == nil},
	}
	switch {
	case a.shuttingDown.Load():
		h.Status = "stopping"
	case !h.Database.OK:
		h.Status = "degraded"
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

// Checks is the answer of GET /health/checks: each dependency's state.
type Checks struct {
	Status    string               `json:"status" enum:"ok,degraded,stopping"`
	Database  DatabaseHealth       `json:"database"`
	Providers []agent.BreakerState `json:"providers" doc:"The circuit breaker of each provider called since the start."`
}

// checks reports the database and every provider's breaker; degraded when
// the database fails or a breaker is open.
func (a *API) checks(w http.ResponseWriter, r *http.Request) error {
	c := Checks{Status: "ok", Database: DatabaseHealth{Backend: string(a.store.Backend()), OK: a.pingDatabase(r.Context()) == nil}, Providers: []agent.BreakerState{}}
	if a.agents != nil {
		c.Providers = a.agents.Breakers()
	}
	open := slices.ContainsFunc(c.Providers, func(b agent.BreakerState) bool { return b.State != llm.BreakerClosed })
	switch {
	case a.shuttingDown.Load():
		c.Status = "stopping"
	case !c.Database.OK || open:
		c.Status = "degraded"
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (a *API) live(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, Status{Status: "ok"})
	return nil
}

func (a *API) ready(w http.ResponseWriter, r *http.Request) error {
	if a.shuttingDown.Load() {
		return gathering.Errorf(gathering.EUNAVAILABLE, "The server is shutting down.")
	}
	if err := a.pingDatabase(r.Context()); err != nil {
		a.log.WarnContext(r.Context(), "readiness: database does not answer", "error", err)
		return gathering.Errorf(gathering.EUNAVAILABLE, "The database does not answer.")
	}
	writeJSON(w, http.StatusOK, Status{Status: "ready"})
	return nil
}

func (a *API) pingDatabase(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	return a.store.Ping(ctx)
}

func (a *API) metricsHandler() http.Handler {
	return promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{ErrorLog: slogPrinter{a}})
}

// slogPrinter hands promhttp's errors to the API's logger.
type slogPrinter struct{ a *API }

func (p slogPrinter) Println(v ...any) {
	p.a.log.Error("metrics", "error", strings.TrimSpace(fmt.Sprintln(v...)))
}
