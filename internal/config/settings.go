package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Setting is one configuration entry: the variables it is read from (the
// first is canonical), its flag, its default and how it is parsed and shown.
type Setting struct {
	Env     []string // environment variables, first match wins
	Flag    string   // command-line flag name, empty when none
	Default string
	Secret  bool // masked when shown
	Usage   string

	field func(c *Config) any    // pointer to the Config field
	show  func(c *Config) string // custom display, for secrets
}

// Settings returns the table of every setting, in display order.
func Settings() []Setting { return settings }

var settings = []Setting{
	{Env: []string{"GATHERING_ENV"}, Flag: "env", Default: Development,
		Usage: "development or production (production refuses unsafe settings)",
		field: func(c *Config) any { return &c.Env }},
	{Env: []string{"HOST", "GATHERING_HOST"}, Flag: "host", Default: "127.0.0.1",
		Usage: "listen host",
		field: func(c *Config) any { return &c.Host }},
	{Env: []string{"PORT", "GATHERING_PORT"}, Flag: "port", Default: "8000",
		Usage: "listen port (0 picks a free port)",
		field: func(c *Config) any { return &c.Port }},
	{Env: []string{"GATHERING_DATA_DIR"}, Flag: "data-dir", Default: "./data",
		Usage: "data directory: the SQLite file and the generated development secret",
		field: func(c *Config) any { return &c.DataDir }},
	{Env: []string{"DATABASE_URL", "GATHERING_DATABASE_URL"}, Flag: "database-url", Secret: true,
		Usage: "PostgreSQL URL (postgres://…); unset uses the embedded SQLite file",
		field: func(c *Config) any { return &c.DatabaseURL }},
	{Env: []string{"GATHERING_DB_MAX_CONNS"}, Flag: "db-max-conns", Default: "10",
		Usage: "database connection pool size",
		field: func(c *Config) any { return &c.DBMaxConns }},
	{Env: []string{"GATHERING_DB_STATEMENT_TIMEOUT"}, Flag: "db-statement-timeout", Default: "30s",
		Usage: "PostgreSQL statement timeout",
		field: func(c *Config) any { return &c.DBStatementTimeout }},
	{Env: []string{"GATHERING_SKIP_MIGRATIONS"}, Flag: "skip-migrations", Default: "false",
		Usage: "serve does not apply migrations at start (it refuses to start if any are pending)",
		field: func(c *Config) any { return &c.SkipMigrations }},
	{Env: []string{"SECRET_KEY", "GATHERING_SECRET_KEY"}, Secret: true,
		Usage: "signing secret, at least 32 bytes; in development a missing one is generated once into the data directory",
		field: func(c *Config) any { return &c.SecretKey }, show: showSecret},
	{Env: []string{"REDIS_URL", "GATHERING_REDIS_URL"}, Secret: true,
		Usage: "Redis URL for rate limits shared across instances (redis://…); unset keeps them in memory",
		field: func(c *Config) any { return &c.RedisURL }},
	{Env: []string{"GATHERING_REDIS_PREFIX"}, Default: "gathering:",
		Usage: "prefix of every key GatheRing writes in Redis (to share one Redis between deployments)",
		field: func(c *Config) any { return &c.RedisPrefix }},
	{Env: []string{"GATHERING_AUTH_DISABLED"}, Default: "false",
		Usage: "development only: requests without credentials act as an administrator (refused in production)",
		field: func(c *Config) any { return &c.AuthDisabled }},
	{Env: []string{"CORS_ORIGINS", "GATHERING_CORS_ORIGINS"}, Flag: "cors-origins",
		Usage: "comma-separated origins allowed to call the API from a browser (* only in development)",
		field: func(c *Config) any { return &c.CORSOrigins }},
	{Env: []string{"LOG_LEVEL", "GATHERING_LOG_LEVEL"}, Flag: "log-level", Default: "info",
		Usage: "debug, info, warn or error",
		field: func(c *Config) any { return &c.LogLevel }},
	{Env: []string{"GATHERING_LOG_FORMAT"}, Flag: "log-format", Default: "auto",
		Usage: "json, text, or auto (text when stderr is a terminal, else json)",
		field: func(c *Config) any { return &c.LogFormat }},
	{Env: []string{"GATHERING_LOG_BODIES"}, Default: "false",
		Usage: "development only: log request bodies (secrets redacted) at debug level",
		field: func(c *Config) any { return &c.LogBodies }},
	{Env: []string{"GATHERING_MAX_BODY_BYTES"}, Flag: "max-body-bytes", Default: "1048576",
		Usage: "default request body limit in bytes (some routes set their own)",
		field: func(c *Config) any { return &c.MaxBodyBytes }},
	{Env: []string{"GATHERING_REQUEST_TIMEOUT"}, Flag: "request-timeout", Default: "30s",
		Usage: "default deadline of one request",
		field: func(c *Config) any { return &c.RequestTimeout }},
	{Env: []string{"GATHERING_READ_HEADER_TIMEOUT"}, Default: "5s",
		Usage: "time allowed to read request headers",
		field: func(c *Config) any { return &c.ReadHeaderTimeout }},
	{Env: []string{"GATHERING_READ_TIMEOUT"}, Default: "60s",
		Usage: "time allowed to read a whole request",
		field: func(c *Config) any { return &c.ReadTimeout }},
	{Env: []string{"GATHERING_WRITE_TIMEOUT"}, Default: "90s",
		Usage: "time allowed to write a response (must exceed the request timeout)",
		field: func(c *Config) any { return &c.WriteTimeout }},
	{Env: []string{"GATHERING_IDLE_TIMEOUT"}, Default: "120s",
		Usage: "keep-alive idle timeout",
		field: func(c *Config) any { return &c.IdleTimeout }},
	{Env: []string{"GATHERING_SHUTDOWN_DRAIN"}, Flag: "shutdown-drain", Default: "5s",
		Usage: "after a stop signal, keep serving this long with readiness 503 so load balancers notice",
		field: func(c *Config) any { return &c.ShutdownDrain }},
	{Env: []string{"GATHERING_SHUTDOWN_TIMEOUT"}, Flag: "shutdown-timeout", Default: "30s",
		Usage: "then wait this long for in-flight requests",
		field: func(c *Config) any { return &c.ShutdownTimeout }},
	{Env: []string{"GATHERING_REGISTRATION"},
		Usage: "open or closed: whether anyone may register (default open in development, closed in production)",
		field: func(c *Config) any { return &c.Registration }},
	{Env: []string{"GATHERING_BCRYPT_COST"}, Default: "12",
		Usage: "bcrypt cost of password hashes (10 to 16)",
		field: func(c *Config) any { return &c.BcryptCost }},
	{Env: []string{"GATHERING_ACCESS_TOKEN_TTL"}, Default: "24h",
		Usage: "lifetime of an access token",
		field: func(c *Config) any { return &c.AccessTokenTTL }},
	{Env: []string{"GATHERING_REFRESH_TOKEN_TTL"}, Default: "720h",
		Usage: "lifetime of a refresh token (each use rotates it)",
		field: func(c *Config) any { return &c.RefreshTokenTTL }},
	{Env: []string{"ADMIN_EMAIL", "GATHERING_ADMIN_EMAIL"},
		Usage: "administrator account created at start when it does not exist (with ADMIN_PASSWORD_HASH)",
		field: func(c *Config) any { return &c.AdminEmail }},
	{Env: []string{"ADMIN_PASSWORD_HASH", "GATHERING_ADMIN_PASSWORD_HASH"}, Secret: true,
		Usage: "bcrypt hash of that administrator's password",
		field: func(c *Config) any { return &c.AdminPasswordHash }, show: showSet(func(c *Config) string { return c.AdminPasswordHash })},
	{Env: []string{"GATHERING_RATE_LIMIT_AUTH"}, Default: "5/min",
		Usage: "rate of login, register and refresh requests per client",
		field: func(c *Config) any { return &c.RateLimitAuth }},
	{Env: []string{"GATHERING_RATE_LIMIT_WRITE"}, Default: "30/min",
		Usage: "rate of writes (POST, PUT, PATCH, DELETE) per user or client",
		field: func(c *Config) any { return &c.RateLimitWrite }},
	{Env: []string{"GATHERING_RATE_LIMIT_READ"}, Default: "120/min",
		Usage: "rate of reads (GET) per user or client",
		field: func(c *Config) any { return &c.RateLimitRead }},
	{Env: []string{"GATHERING_RATE_LIMIT_HEALTH"}, Default: "300/min",
		Usage: "rate of health probes per client",
		field: func(c *Config) any { return &c.RateLimitHealth }},
	{Env: []string{"GATHERING_TRUSTED_PROXIES"},
		Usage: "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed",
		field: func(c *Config) any { return &c.TrustedProxies }},
	{Env: []string{"GATHERING_EVENT_RING"}, Default: "10000",
		Usage: "events each instance keeps so reconnecting clients can catch up (since=, Last-Event-ID)",
		field: func(c *Config) any { return &c.EventRing }},
	{Env: []string{"GATHERING_EVENT_BATCH_WINDOWS"}, Default: "agent.token=50ms,pipeline.progress=50ms,tool.execution.progress=50ms",
		Usage: "high-frequency event types, each coalesced per topic over its window into one batch frame",
		field: func(c *Config) any { return &c.EventBatchWindows }},
	{Env: []string{"GATHERING_EVENT_DEDUP_WINDOWS"}, Default: "*=1s",
		Usage: "identical events (type, topics, data) inside the window are delivered once; type=window pairs, * for every type, 0 turns it off",
		field: func(c *Config) any { return &c.EventDedupWindows }},
	{Env: []string{"GATHERING_WS_MAX_CONNECTIONS_PER_USER"}, Default: "20",
		Usage: "WebSocket connections one user may hold at once",
		field: func(c *Config) any { return &c.WSMaxConnectionsPerUser }},
	{Env: []string{"GATHERING_OUTBOUND_ALLOWLIST"},
		Usage: "comma-separated IPs, CIDRs or host names that tools may reach although they are internal (e.g. 127.0.0.0/8); empty refuses every internal address",
		field: func(c *Config) any { return &c.OutboundAllowList }},
	{Env: []string{"GATHERING_WORKSPACE_DIR"},
		Usage: "base directory of project workspaces (default <data dir>/workspaces)",
		field: func(c *Config) any { return &c.WorkspaceDir }},
	{Env: []string{"GATHERING_TOOL_CONFIRM_TIMEOUT"}, Default: "15m",
		Usage: "how long a call of a dangerous tool waits for a confirmation before it expires",
		field: func(c *Config) any { return &c.ToolConfirmTimeout }},
	{Env: []string{"GATHERING_TOOL_CONCURRENCY"}, Default: "8",
		Usage: "runs of one tool at once (further calls wait, pending)",
		field: func(c *Config) any { return &c.ToolConcurrency }},
	{Env: []string{"GATHERING_SHELL_PROGRAMS"},
		Usage: "programs the dangerous shell.run tool may run (comma-separated names); empty leaves the shell skill out",
		field: func(c *Config) any { return &c.ShellPrograms }},
	{Env: []string{"GATHERING_MCP_SERVERS"}, Secret: true,
		Usage: `MCP servers whose tools join the registry, as JSON: [{"name":"files","command":["prog","arg"]} or {"name":"web","url":"https://…"}]`,
		field: func(c *Config) any { return &c.MCPServers }, show: showSet(func(c *Config) string { return c.MCPServers })},
	{Env: []string{"GATHERING_ENCRYPTION_KEY"}, Secret: true,
		Usage: "32 bytes in base64 (openssl rand -base64 32) that encrypt provider API keys at rest; unset derives the key from SECRET_KEY",
		field: func(c *Config) any { return &c.EncryptionKey }, show: showSet(func(c *Config) string { return c.EncryptionKey })},
	{Env: []string{"GATHERING_EMBEDDER"}, Default: "local",
		Usage: "how memories and the knowledge base are embedded: local (offline, lexical) or provider:<provider>:<model>:<dimension> (a catalog provider's OpenAI-compatible /v1/embeddings)",
		field: func(c *Config) any { return &c.Embedder }},
	{Env: []string{"GATHERING_AGENT_MAX_ROUNDS"}, Default: "10",
		Usage: "model calls one chat turn may make while it uses tools",
		field: func(c *Config) any { return &c.AgentMaxRounds }},
	{Env: []string{"GATHERING_PIPELINE_LEASE"}, Default: "30s",
		Usage: "how long a pipeline run stays its instance's without a heartbeat; another instance resumes it after that",
		field: func(c *Config) any { return &c.PipelineLease }},
	{Env: []string{"GATHERING_PIPELINE_MAX_RUNS"}, Default: "32",
		Usage: "pipeline runs one instance executes at once (further runs wait, pending, for any instance)",
		field: func(c *Config) any { return &c.PipelineMaxRuns }},
	{Env: []string{"GATHERING_SCHEDULER_LEASE"}, Default: "30s",
		Usage: "how long a scheduled action's run stays its instance's without a heartbeat; another instance recovers it after that",
		field: func(c *Config) any { return &c.SchedulerLease }},
	{Env: []string{"GATHERING_BACKGROUND_TASK_LEASE"}, Default: "30s",
		Usage: "how long a background task stays its instance's without a heartbeat; another instance continues it after that",
		field: func(c *Config) any { return &c.TaskLease }},
	{Env: []string{"GATHERING_BACKGROUND_TASKS_MAX"}, Default: "5",
		Usage: "background tasks running at once across every instance; creating or resuming one more is refused with 429",
		field: func(c *Config) any { return &c.TasksMax }},
	{Env: []string{"GATHERING_CONVERSATION_LEASE"}, Default: "30s",
		Usage: "how long a running conversation stays its instance's without a heartbeat; another instance continues it after that",
		field: func(c *Config) any { return &c.ConversationLease }},
	{Env: []string{"GATHERING_METRICS_TOKEN"}, Secret: true,
		Usage: "bearer token that lets a scraper read /metrics without an admin account",
		field: func(c *Config) any { return &c.MetricsToken }, show: showSet(func(c *Config) string { return c.MetricsToken })},
}

// set parses v into the setting's field.
func (s Setting) set(c *Config, v string) error {
	v = strings.TrimSpace(v)
	var err error
	switch p := s.field(c).(type) {
	case *string:
		*p = v
	case *int:
		*p, err = strconv.Atoi(v)
	case *int64:
		*p, err = strconv.ParseInt(v, 10, 64)
	case *bool:
		*p, err = strconv.ParseBool(v)
	case *time.Duration:
		if *p, err = time.ParseDuration(v); err != nil {
			return fmt.Errorf("%q is not a duration like 500ms, 30s or 2m", v)
		}
	case *[]string:
		*p = splitList(v)
	case *slog.Level:
		if p.UnmarshalText([]byte(v)) != nil {
			return fmt.Errorf("%q is not one of debug, info, warn, error", v)
		}
	}
	if err != nil {
		return fmt.Errorf("%q is not a valid %s", v, kindName(s.field(c)))
	}
	return nil
}

// Show returns the setting's value in c as text, with secrets masked.
func (s Setting) Show(c *Config) string {
	if s.show != nil {
		return s.show(c)
	}
	switch p := s.field(c).(type) {
	case *string:
		if s.Secret {
			return redactURL(*p)
		}
		return *p
	case *int:
		return strconv.Itoa(*p)
	case *int64:
		return strconv.FormatInt(*p, 10)
	case *bool:
		return strconv.FormatBool(*p)
	case *time.Duration:
		return p.String()
	case *[]string:
		return strings.Join(*p, ",")
	case *slog.Level:
		return strings.ToLower(p.String())
	}
	return ""
}

func kindName(field any) string {
	switch field.(type) {
	case *bool:
		return "boolean (true or false)"
	default:
		return "whole number"
	}
}

func splitList(v string) []string {
	var out []string
	for o := range strings.SplitSeq(v, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// showSet shows only whether a secret is set.
func showSet(value func(*Config) string) func(*Config) string {
	return func(c *Config) string {
		if value(c) == "" {
			return "(not set)"
		}
		return "******** (set)"
	}
}

func showSecret(c *Config) string {
	if c.SecretKey == "" {
		return "(not set)"
	}
	return fmt.Sprintf("******** (%d bytes, from %s)", len(c.SecretKey), c.SecretKeySource)
}

// redactURL hides the password of a URL; an unparsable URL is hidden whole.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "********"
	}
	return u.Redacted()
}
