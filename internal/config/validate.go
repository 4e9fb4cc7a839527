package config

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/mcp"
	"github.com/gathering/gathering/internal/netguard"
)

// knownDefaultSecrets are placeholder secrets seen in examples and in the
// original service's docs; production refuses them whatever their length.
var knownDefaultSecrets = []string{
	"secret", "changeme", "change-me", "change_me", "your-secret-key",
	"your-secret-key-here", "your-secret-key-change-in-production",
	"change-this-in-production", "dev-secret-key", "development-secret-key",
	"supersecret", "gathering-secret-key",
}

// validate returns one line per problem in c.
func (c *Config) validate() Problems {
	var p Problems
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if c.Env != Development && c.Env != Production {
		add("GATHERING_ENV: %q is not development or production", c.Env)
	}
	if c.Port < 0 || c.Port > 65535 {
		add("PORT: %d is not between 0 and 65535", c.Port)
	}
	if c.DataDir == "" {
		add("GATHERING_DATA_DIR: must not be empty")
	}
	if c.LogFormat != "auto" && c.LogFormat != "json" && c.LogFormat != "text" {
		add("GATHERING_LOG_FORMAT: %q is not auto, json or text", c.LogFormat)
	}
	p = append(p, c.validateURLs()...)
	p = append(p, c.validateIdentity()...)
	p = append(p, c.validateEvents()...)
	p = append(p, c.validateLimits()...)
	for _, o := range c.CORSOrigins {
		if o != "*" && !validOrigin(o) {
			add("CORS_ORIGINS: %q is not an origin like https://app.example.com or http://localhost:5173", o)
		}
	}
	if c.Production() {
		p = append(p, c.validateProduction()...)
	}
	return p
}

func (c *Config) validateURLs() Problems {
	var p Problems
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			p = append(p, "DATABASE_URL: must be a postgres:// or postgresql:// URL (unset it to use the embedded SQLite file)")
		}
	}
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			p = append(p, "REDIS_URL: must be a redis:// or rediss:// URL")
		}
	}
	return p
}

func (c *Config) validateLimits() Problems {
	var p Problems
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if c.DBMaxConns < 1 || c.DBMaxConns > 1000 {
		add("GATHERING_DB_MAX_CONNS: %d is not between 1 and 1000", c.DBMaxConns)
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 1<<30 {
		add("GATHERING_MAX_BODY_BYTES: %d is not between 1024 and 1073741824", c.MaxBodyBytes)
	}
	positive := map[string]bool{
		"GATHERING_DB_STATEMENT_TIMEOUT": c.DBStatementTimeout > 0,
		"GATHERING_REQUEST_TIMEOUT":      c.RequestTimeout > 0,
		"GATHERING_READ_HEADER_TIMEOUT":  c.ReadHeaderTimeout > 0,
		"GATHERING_READ_TIMEOUT":         c.ReadTimeout > 0,
		"GATHERING_WRITE_TIMEOUT":        c.WriteTimeout > 0,
		"GATHERING_IDLE_TIMEOUT":         c.IdleTimeout > 0,
		"GATHERING_SHUTDOWN_TIMEOUT":     c.ShutdownTimeout > 0,
	}
	for _, name := range slices.Sorted(maps.Keys(positive)) {
		if !positive[name] {
			add("%s: must be a positive duration", name)
		}
	}
	if c.ShutdownDrain < 0 {
		add("GATHERING_SHUTDOWN_DRAIN: must not be negative")
	}
	if c.WriteTimeout > 0 && c.WriteTimeout <= c.RequestTimeout {
		add("GATHERING_WRITE_TIMEOUT: %s must exceed GATHERING_REQUEST_TIMEOUT (%s) so a timed-out request can still be answered", c.WriteTimeout, c.RequestTimeout)
	}
	return p
}

// validateProduction refuses the settings that are only safe on a developer's
// machine.
func (c *Config) validateProduction() Problems {
	var p Problems
	switch {
	case c.SecretKey == "":
		p = append(p, "SECRET_KEY: required in production (at least 32 random bytes, e.g. `openssl rand -base64 48`)")
	case slices.Contains(knownDefaultSecrets, strings.ToLower(c.SecretKey)):
		p = append(p, "SECRET_KEY: is a well-known placeholder; generate a random one")
	case len(c.SecretKey) < MinSecretBytes:
		p = append(p, fmt.Sprintf("SECRET_KEY: is %d bytes; production needs at least %d", len(c.SecretKey), MinSecretBytes))
	}
	if c.AuthDisabled {
		p = append(p, "GATHERING_AUTH_DISABLED: authentication cannot be disabled in production")
	}
	if c.LogBodies {
		p = append(p, "GATHERING_LOG_BODIES: request bodies cannot be logged in production")
	}
	if slices.Contains(c.CORSOrigins, "*") {
		p = append(p, "CORS_ORIGINS: the wildcard * is refused in production; list the allowed origins")
	}
	return p
}

func validOrigin(o string) bool {
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil
}

var rateSpec = regexp.MustCompile(`^[1-9][0-9]{0,6}/(s|min|h)$`)

// validateIdentity checks the identity and abuse-protection settings and
// fills in the registration default of the environment.
func (c *Config) validateIdentity() Problems {
	var p Problems
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	switch c.Registration {
	case "":
		c.Registration = map[bool]string{true: "closed", false: "open"}[c.Production()]
	case "open", "closed":
	default:
		add("GATHERING_REGISTRATION: %q is not open or closed", c.Registration)
	}
	if c.BcryptCost < 10 || c.BcryptCost > 16 {
		add("GATHERING_BCRYPT_COST: %d is not between 10 and 16", c.BcryptCost)
	}
	if c.AccessTokenTTL < time.Minute {
		add("GATHERING_ACCESS_TOKEN_TTL: must be at least 1m")
	}
	if c.RefreshTokenTTL < c.AccessTokenTTL {
		add("GATHERING_REFRESH_TOKEN_TTL: must be at least the access token lifetime")
	}
	if (c.AdminEmail == "") != (c.AdminPasswordHash == "") {
		add("ADMIN_EMAIL and ADMIN_PASSWORD_HASH: set both or neither")
	}
	if c.AdminPasswordHash != "" && !bcryptHash.MatchString(c.AdminPasswordHash) {
		add("ADMIN_PASSWORD_HASH: is not a bcrypt hash ($2a$, $2b$ or $2y$ followed by the cost and 53 characters)")
	}
	for i, rate := range []string{c.RateLimitAuth, c.RateLimitWrite, c.RateLimitRead, c.RateLimitHealth} {
		if !rateSpec.MatchString(rate) {
			add("GATHERING_RATE_LIMIT_%s: %q is not a rate like 5/s, 30/min or 1000/h", []string{"AUTH", "WRITE", "READ", "HEALTH"}[i], rate)
		}
	}
	for _, proxy := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(proxy); err != nil {
			if _, err := netip.ParseAddr(proxy); err != nil {
				add("GATHERING_TRUSTED_PROXIES: %q is not an address or CIDR", proxy)
			}
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		add("GATHERING_METRICS_TOKEN: must be at least 16 characters")
	}
	return p
}

// validateEvents checks the event bus, tool and memory settings.
func (c *Config) validateEvents() Problems {
	var p Problems
	if c.EventRing < 100 || c.EventRing > 10_000_000 {
		p = append(p, fmt.Sprintf("GATHERING_EVENT_RING: %d is not between 100 and 10000000", c.EventRing))
	}
	if c.WSMaxConnectionsPerUser < 1 || c.WSMaxConnectionsPerUser > 10_000 {
		p = append(p, fmt.Sprintf("GATHERING_WS_MAX_CONNECTIONS_PER_USER: %d is not between 1 and 10000", c.WSMaxConnectionsPerUser))
	}
	if _, err := netguard.ParseAllowList(c.OutboundAllowList); err != nil {
		p = append(p, fmt.Sprintf("GATHERING_OUTBOUND_ALLOWLIST: %v", err))
	}
	if _, err := mcp.ParseServers(c.MCPServers); err != nil {
		p = append(p, gathering.ErrorMessage(err))
	}
	if c.EncryptionKey != "" {
		if key, err := base64.StdEncoding.DecodeString(c.EncryptionKey); err != nil || len(key) != 32 {
			p = append(p, "GATHERING_ENCRYPTION_KEY: must be 32 bytes in base64 (openssl rand -base64 32)")
		}
	}
	if _, err := ParseEmbedder(c.Embedder); err != nil {
		p = append(p, "GATHERING_EMBEDDER: "+err.Error())
	}
	if c.AgentMaxRounds < 1 || c.AgentMaxRounds > 100 {
		p = append(p, fmt.Sprintf("GATHERING_AGENT_MAX_ROUNDS: %d is not between 1 and 100", c.AgentMaxRounds))
	}
	if c.PipelineLease < 3*time.Second || c.PipelineLease > time.Hour {
		p = append(p, "GATHERING_PIPELINE_LEASE: must be between 3s and 1h")
	}
	if c.SchedulerLease < 3*time.Second || c.SchedulerLease > time.Hour {
		p = append(p, "GATHERING_SCHEDULER_LEASE: must be between 3s and 1h")
	}
	if c.TaskLease < 3*time.Second || c.TaskLease > time.Hour {
		p = append(p, "GATHERING_BACKGROUND_TASK_LEASE: must be between 3s and 1h")
	}
	if c.ConversationLease < 3*time.Second || c.ConversationLease > time.Hour {
		p = append(p, "GATHERING_CONVERSATION_LEASE: must be between 3s and 1h")
	}
	if c.TasksMax < 1 || c.TasksMax > 1000 {
		p = append(p, fmt.Sprintf("GATHERING_BACKGROUND_TASKS_MAX: %d is not between 1 and 1000", c.TasksMax))
	}
	if c.PipelineMaxRuns < 1 || c.PipelineMaxRuns > 10_000 {
		p = append(p, fmt.Sprintf("GATHERING_PIPELINE_MAX_RUNS: %d is not between 1 and 10000", c.PipelineMaxRuns))
	}
	if c.ToolConfirmTimeout < time.Second || c.ToolConfirmTimeout > 7*24*time.Hour {
		p = append(p, "GATHERING_TOOL_CONFIRM_TIMEOUT: must be between 1s and 168h")
	}
	if c.ToolConcurrency < 1 || c.ToolConcurrency > 1000 {
		p = append(p, fmt.Sprintf("GATHERING_TOOL_CONCURRENCY: %d is not between 1 and 1000", c.ToolConcurrency))
	}
	for _, prog := range c.ShellPrograms {
		if strings.ContainsAny(prog, `/\`) || strings.HasPrefix(prog, "-") {
			p = append(p, fmt.Sprintf("GATHERING_SHELL_PROGRAMS: %q must be a bare program name", prog))
		}
	}
	for name, spec := range map[string]string{"GATHERING_EVENT_BATCH_WINDOWS": c.EventBatchWindows, "GATHERING_EVENT_DEDUP_WINDOWS": c.EventDedupWindows} {
		if _, err := ParseWindows(spec); err != nil {
			p = append(p, fmt.Sprintf("%s: %v", name, err))
		}
	}
	slices.Sort(p)
	return p
}

// ParseWindows reads "type=duration,…" (a type may be *), as the event
// window settings are written.
func ParseWindows(spec string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, pair := range splitList(spec) {
		typ, dur, ok := strings.Cut(pair, "=")
		d, err := time.ParseDuration(strings.TrimSpace(dur))
		typ = strings.TrimSpace(typ)
		if !ok || err != nil || d < 0 || d > time.Minute || !eventType.MatchString(typ) {
			return nil, fmt.Errorf("%q is not type=duration (0 to 1m), like agent.token=50ms", pair)
		}
		out[typ] = d
	}
	return out, nil
}

var eventType = regexp.MustCompile(`^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*)$`)

var bcryptHash = regexp.MustCompile(`^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$`)
