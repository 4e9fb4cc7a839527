package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gathering/gathering/internal/activity"
	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/config"
	"github.com/gathering/gathering/internal/engine"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/httpapi"
	"github.com/gathering/gathering/internal/logging"
	"github.com/gathering/gathering/internal/mcp"
	"github.com/gathering/gathering/internal/memory"
	"github.com/gathering/gathering/internal/ratelimit"
	"github.com/gathering/gathering/internal/scheduler"
	"github.com/gathering/gathering/internal/sealer"
	"github.com/gathering/gathering/internal/server"
	"github.com/gathering/gathering/internal/startstop"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
	"github.com/gathering/gathering/internal/workspace"
)

const serveHelp = `Run the GatheRing server.

With no configuration it listens on 127.0.0.1:8000 and keeps everything in an
embedded SQLite file in ./data; set DATABASE_URL to run on PostgreSQL. It
applies pending migrations at start unless --skip-migrations is given. On
SIGTERM or SIGINT it turns readiness to 503, keeps serving for the drain
delay, waits for in-flight requests, stops, and exits 0; a second signal
exits at once.`

func serve(ctx context.Context, args []string, e env) int {
	cfg, code := loadConfig(newFlagSet("serve", serveHelp, e), args, e)
	if cfg == nil {
		return code
	}
	log := logging.New(e.stderr, cfg.LogLevel, cfg.LogFormat)
	if err := serveWith(ctx, cfg, log, e); err != nil {
		log.Error("gathering stopped with an error", "error", err)
		return exitError
	}
	log.Info("gathering stopped")
	return exitOK
}

// serveWith runs the server until ctx ends. The store is opened first and
// closed last; background components start after it and stop before it.
func serveWith(ctx context.Context, cfg *config.Config, log *slog.Logger, e env) error {
	start := time.Now()
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeStore(db, log)
	if err := cfg.ResolveSecret(); err != nil {
		return err
	}
	if err := prepareSchema(ctx, cfg, db, log); err != nil {
		return err
	}
	svc, err := newAuthService(cfg, db, log)
	if err != nil {
		return err
	}
	if err := bootstrapAdmin(ctx, cfg, db, svc, log, e); err != nil {
		return err
	}
	limiter, limiterService, err := newLimiter(cfg, log)
	if err != nil {
		return err
	}
	reg := newRegistry()
	bus, busServices, err := newBus(cfg, reg, log)
	if err != nil {
		return err
	}
	svc.SetAnnouncer(announceTo(bus, log))
	if e.bus != nil {
		e.bus(bus)
	}
	ws := workspace.New(db, cfg.WorkspaceBase())
	tools, mcpClient, toolServices, err := newTools(cfg, db, ws, bus, log)
	if err != nil {
		return err
	}
	agents, seal, embedder, err := newAgents(ctx, cfg, db, tools, bus, log, e.getenv)
	if err != nil {
		return err
	}
	pipelines := engine.New(db, tools, agents, bus, engine.Options{
		Instance: bus.Instance(), Lease: cfg.PipelineLease, MaxRuns: cfg.PipelineMaxRuns, Logger: log,
		Exclusive: db.Backend() == store.SQLite,
	})
	tasks := background.New(db, agents, bus, background.Options{Instance: bus.Instance(), Lease: cfg.TaskLease,
		MaxRunning: cfg.TasksMax, Exclusive: db.Backend() == store.SQLite, Logger: log})
	sched := scheduler.New(db, pipelines, tasks, tools, bus, scheduler.Options{Instance: bus.Instance(), Lease: cfg.SchedulerLease, Logger: log})
	team, err := newTeam(cfg, db, teamDeps{agents: agents, tasks: tasks, pipelines: pipelines, scheduler: sched, tools: tools, bus: bus}, log)
	if err != nil {
		return err
	}
	api, err := newAPI(cfg, db, svc, limiter, apiParts{bus: bus, tools: tools, mcp: mcpClient, agents: agents, sealer: seal,
		embedder: embedder, pipelines: pipelines, scheduler: sched, tasks: tasks, workspace: ws, team: team}, reg, log, e)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr(), err)
	}
	services := append(busServices, startstop.Named{Name: "revocation purger", Service: svc.Purger()})
	if limiterService != nil {
		services = append(services, startstop.Named{Name: "rate limiter", Service: limiterService})
	}
	// The engine stops before the tool executor its nodes call.
	services = append(services, toolServices...)
	services = append(services, startstop.Named{Name: "activity recorder", Service: activity.NewRecorder(db, bus, log)})
	services = append(services, startstop.Named{Name: "pipeline engine", Service: pipelines})
	// The task runner stops before the executor its agents' tools go through.
	services = append(services, startstop.Named{Name: "background tasks", Service: tasks})
	// The scheduler stops before the engine and the executor its runs call.
	services = append(services, startstop.Named{Name: "scheduler", Service: sched})
	// Circles stop before the task runner they start tasks on, and
	// conversations before the executor their agents' tools go through.
	services = append(services, startstop.Named{Name: "circles", Service: team.circles},
		startstop.Named{Name: "conversations", Service: team.conversations})
	components := startstop.NewGroup(services...)
	if err := components.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	if cfg.AuthDisabled {
		log.Warn("authentication is disabled: every request without credentials acts as an administrator")
	}
	log.Info("gathering is ready", "url", "http://"+ln.Addr().String(), "docs", "http://"+ln.Addr().String()+"/docs/",
		"backend", db.Backend(), "env", cfg.Env, "version", gathering.Build().Version, "startup_ms", time.Since(start).Milliseconds())
	if e.listening != nil {
		e.listening(ln.Addr().String())
	}
	publishSystem(bus, log, "started")
	beginShutdown := func() {
		api.BeginShutdown()
		publishSystem(bus, log, "stopping")
	}
	srv := server.New(ln, api, serverConfig(cfg), log, beginShutdown)
	srv.OnShutdown(api.EndStreams)
	runErr := srv.Run(ctx)
	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(runErr, components.Stop(stopCtx))
}

// prepareSchema migrates, or with --skip-migrations checks that nothing is
// pending.
func prepareSchema(ctx context.Context, cfg *config.Config, db store.Store, log *slog.Logger) error {
	if cfg.SkipMigrations {
		states, err := db.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		if n := countPending(states); n > 0 {
			return fmt.Errorf("%d migration(s) pending and --skip-migrations is set: run `gathering migrate up` first", n)
		}
		return nil
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "versions", applied)
	}
	return nil
}

func countPending(states []store.MigrationState) int {
	n := 0
	for _, s := range states {
		if s.Pending() {
			n++
		}
	}
	return n
}

// newRegistry is the process's metrics registry, with the Go runtime and
// process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// apiParts are the engines the API serves.
type apiParts struct {
	bus      *event.Bus
	tools    *tool.Executor
	mcp      *mcp.Client // nil when no MCP server is configured
	agents   *agent.Service
	sealer   *sealer.Sealer
	embedder memory.Embedder
	// pipelines executes pipeline runs.
	pipelines *engine.Engine
	// scheduler fires scheduled actions.
	scheduler *scheduler.Scheduler
	// tasks runs background agent tasks.
	tasks *background.Runner
	// workspace serves projects' directories.
	workspace *workspace.Service
	// team runs circles, conversations and goals.
	team team
}

func newAPI(cfg *config.Config, db store.Store, svc *auth.Service, limiter ratelimit.Limiter, parts apiParts, reg *prometheus.Registry, log *slog.Logger, e env) (*httpapi.API, error) {
	var mcpStatus httpapi.MCPStatus
	if parts.mcp != nil {
		mcpStatus = parts.mcp
	}
	tiers, err := rates(cfg)
	if err != nil {
		return nil, err
	}
	return httpapi.New(httpapi.Deps{
		Log:           log,
		Store:         db,
		Registry:      reg,
		Auth:          svc,
		Limiter:       limiter,
		Bus:           parts.bus,
		Tools:         parts.tools,
		MCP:           mcpStatus,
		Agents:        parts.agents,
		Sealer:        parts.sealer,
		Embedder:      parts.embedder,
		Pipelines:     parts.pipelines,
		Scheduler:     parts.scheduler,
		Tasks:         parts.tasks,
		Workspace:     parts.workspace,
		Circles:       parts.team.circles,
		Conversations: parts.team.conversations,
		Goals:         parts.team.goals,
		Routes:        e.routes,
		Options: httpapi.Options{
			CORSOrigins:           cfg.CORSOrigins,
			MaxBodyBytes:          cfg.MaxBodyBytes,
			RequestTimeout:        cfg.RequestTimeout,
			LogBodies:             cfg.LogBodies,
			Rates:                 tiers,
			TrustedProxies:        trustedProxies(cfg),
			MetricsToken:          cfg.MetricsToken,
			OpenRegistration:      cfg.Registration == "open",
			AuthDisabled:          cfg.AuthDisabled,
			MaxConnectionsPerUser: cfg.WSMaxConnectionsPerUser,
		},
	})
}

func serverConfig(cfg *config.Config) server.Config {
	return server.Config{
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		Drain:             cfg.ShutdownDrain,
		ShutdownTimeout:   cfg.ShutdownTimeout,
	}
}

func closeStore(db store.Store, log *slog.Logger) {
	if err := db.Close(); err != nil {
		log.Error("close database", "error", err)
	}
}
