// Package config builds GatheRing's configuration: one Config value read from
// environment variables (GATHERING_* and the original service's names),
// overridden by command-line flags, and validated as a whole so that every
// problem is reported at once.
package config

import (
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"time"
)

// Environments.
const (
	Development = "development"
	Production  = "production"
)

// MinSecretBytes is the shortest signing secret production accepts.
const MinSecretBytes = 32

// Config is the effective configuration of one process.
type Config struct {
	Env     string // Development or Production
	Host    string // listen host
	Port    int    // listen port; 0 picks a free one
	DataDir string // SQLite file, generated development secret

	DatabaseURL        string        // postgres://…; empty means embedded SQLite
	DBMaxConns         int           // connection pool size
	DBStatementTimeout time.Duration // PostgreSQL statement_timeout
	SkipMigrations     bool          // serve does not migrate at start

	SecretKey       string // signing secret
	SecretKeySource string // where SecretKey came from: env, file, generated
	RedisURL        string // shared rate limits
	RedisPrefix     string // namespace of GatheRing's keys in Redis
	AuthDisabled    bool   // development only: no authentication
	CORSOrigins     []string

	LogLevel  slog.Level
	LogFormat string // auto, json or text
	LogBodies bool   // development only: log request bodies at debug level

	MaxBodyBytes      int64         // default request body limit
	RequestTimeout    time.Duration // default per-request deadline
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownDrain     time.Duration // keep serving after readiness turns 503
	ShutdownTimeout   time.Duration // wait this long for in-flight requests

	Registration      string        // open or closed (default: open in development, closed in production)
	BcryptCost        int           // password hashing cost
	AccessTokenTTL    time.Duration // lifetime of an access token
	RefreshTokenTTL   time.Duration // lifetime of a refresh token
	AdminEmail        string        // administrator created at start when missing
	AdminPasswordHash string        // its bcrypt hash
	RateLimitAuth     string        // rate tiers, "N/s", "N/min" or "N/h"
	RateLimitWrite    string
	RateLimitRead     string
	RateLimitHealth   string
	TrustedProxies    []string // addresses or CIDRs whose X-Forwarded-For is believed
	MetricsToken      string   // bearer token a scraper may use for /metrics

	EventRing               int    // events kept per instance for replay
	EventBatchWindows       string // "type=50ms,…": high-frequency types coalesced per topic
	EventDedupWindows       string // "type=1s,…": identical events inside the window delivered once
	WSMaxConnectionsPerUser int    // WebSocket connections one user may hold

	OutboundAllowList  string        // internal destinations tools may reach
	WorkspaceDir       string        // base of project workspaces; empty: <data dir>/workspaces
	ToolConfirmTimeout time.Duration // a dangerous call expires unconfirmed after this
	ToolConcurrency    int           // runs of one tool at once
	ShellPrograms      []string      // programs shell.run may run; empty: no shell skill
	MCPServers         string        // JSON list of MCP servers
	EncryptionKey      string        // base64 key sealing provider credentials; empty: derived from SecretKey
	AgentMaxRounds     int           // model calls one chat turn may make
	Embedder           string        // "local" or "provider:<provider>:<model>:<dimension>" (see ParseEmbedder)
	PipelineLease      time.Duration // a dead instance's pipeline runs are reclaimed after this
	PipelineMaxRuns    int           // pipeline runs one instance executes at once
	SchedulerLease     time.Duration // a dead instance's schedule runs are recovered after this
	TaskLease          time.Duration // a dead instance's background tasks continue elsewhere after this
	TasksMax           int           // background tasks running at once, across instances
	ConversationLease  time.Duration // a dead instance's conversations continue elsewhere after this

	// Sources tells, per setting (keyed by its canonical variable), where
	// the value came from: "default", "env NAME" or "flag --name".
	Sources map[string]string
}

// Addr is the listen address, host:port.
func (c *Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// SQLitePath is the embedded database file used when DatabaseURL is empty.
func (c *Config) SQLitePath() string { return c.DataDir + "/gathering.db" }

// WorkspaceBase is the base directory of project workspaces.
func (c *Config) WorkspaceBase() string {
	if c.WorkspaceDir != "" {
		return c.WorkspaceDir
	}
	return filepath.Join(c.DataDir, "workspaces")
}

// Production reports whether the process runs in production mode.
func (c *Config) Production() bool { return c.Env == Production }

// Problems is every validation failure of one configuration, one line each.
type Problems []string

// Error lists the problems, one per line.
func (p Problems) Error() string {
	s := fmt.Sprintf("invalid configuration (%d problem", len(p))
	if len(p) != 1 {
		s += "s"
	}
	s += "):"
	for _, line := range p {
		s += "\n  - " + line
	}
	return s
}
