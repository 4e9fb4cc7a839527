package config

import (
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return Load(fs, args, func(k string) string { return env[k] })
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr() != "127.0.0.1:8000" || c.DataDir != "./data" || c.Env != Development {
		t.Errorf("defaults: addr %s, data %s, env %s", c.Addr(), c.DataDir, c.Env)
	}
	if c.MaxBodyBytes != 1<<20 || c.ShutdownDrain != 5*time.Second || c.ShutdownTimeout != 30*time.Second {
		t.Errorf("limits: body %d, drain %s, timeout %s", c.MaxBodyBytes, c.ShutdownDrain, c.ShutdownTimeout)
	}
	if c.LogLevel != slog.LevelInfo || c.Sources["PORT"] != "default" {
		t.Errorf("level %v, source %q", c.LogLevel, c.Sources["PORT"])
	}
}

func TestEnvironmentThenFlags(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PORT": "9000", "HOST": "0.0.0.0", "LOG_LEVEL": "DEBUG", "CORS_ORIGINS": "https://a.example, http://localhost:5173/"}
	c, err := load(t, env, "--port", "9100")
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 9100 || c.Host != "0.0.0.0" || c.LogLevel != slog.LevelDebug {
		t.Errorf("got port %d host %s level %v", c.Port, c.Host, c.LogLevel)
	}
	if got := strings.Join(c.CORSOrigins, " "); got != "https://a.example http://localhost:5173" {
		t.Errorf("origins %q", got)
	}
	if c.Sources["PORT"] != "flag --port" || c.Sources["HOST"] != "env HOST" {
		t.Errorf("sources %v", c.Sources)
	}
	// The GATHERING_ alias is read when the original name is unset.
	c, err = load(t, map[string]string{"GATHERING_PORT": "9200"})
	if err != nil || c.Port != 9200 {
		t.Fatalf("alias: %v %v", c, err)
	}
}

func TestEveryProblemReportedAtOnce(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"PORT": "eighty", "LOG_LEVEL": "loud", "GATHERING_REQUEST_TIMEOUT": "soon",
		"DATABASE_URL": "mysql://x", "CORS_ORIGINS": "not an origin", "GATHERING_ENV": "staging",
		"GATHERING_MAX_BODY_BYTES": "10",
	}
	_, err := load(t, env)
	problems, ok := err.(Problems)
	if !ok {
		t.Fatalf("want Problems, got %T %v", err, err)
	}
	for _, want := range []string{"PORT (env PORT)", "LOG_LEVEL", "GATHERING_REQUEST_TIMEOUT", "DATABASE_URL", "CORS_ORIGINS", "GATHERING_ENV", "GATHERING_MAX_BODY_BYTES"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no problem names %s in:\n%v", want, err)
		}
	}
	if len(problems) != 7 {
		t.Errorf("want 7 problems, got %d:\n%v", len(problems), err)
	}
}

func TestProductionRefusesUnsafeSettings(t *testing.T) {
	t.Parallel()
	good := strings.Repeat("k", 40)
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"missing secret", map[string]string{}, "SECRET_KEY: required"},
		{"default secret", map[string]string{"SECRET_KEY": "your-secret-key-change-in-production"}, "placeholder"},
		{"short secret", map[string]string{"SECRET_KEY": "short-but-random-31-bytes-xxxxx"}, "31 bytes"},
		{"auth disabled", map[string]string{"SECRET_KEY": good, "GATHERING_AUTH_DISABLED": "true"}, "GATHERING_AUTH_DISABLED"},
		{"body logging", map[string]string{"SECRET_KEY": good, "GATHERING_LOG_BODIES": "1"}, "GATHERING_LOG_BODIES"},
		{"wildcard cors", map[string]string{"SECRET_KEY": good, "CORS_ORIGINS": "*"}, "wildcard"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["GATHERING_ENV"] = "production"
			_, err := load(t, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want a problem containing %q, got %v", tc.want, err)
			}
		})
	}
	if _, err := load(t, map[string]string{"GATHERING_ENV": "production", "SECRET_KEY": good}); err != nil {
		t.Fatalf("a safe production config is refused: %v", err)
	}
	// The same unsafe settings are fine in development.
	if _, err := load(t, map[string]string{"GATHERING_AUTH_DISABLED": "true", "GATHERING_LOG_BODIES": "true", "CORS_ORIGINS": "*"}); err != nil {
		t.Fatalf("development refuses: %v", err)
	}
}

func TestDevelopmentSecretGeneratedOnceAndKept(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	c1, _ := load(t, map[string]string{"GATHERING_DATA_DIR": dir})
	if err := c1.ResolveSecret(); err != nil {
		t.Fatal(err)
	}
	if len(c1.SecretKey) < MinSecretBytes {
		t.Fatalf("generated secret is %d bytes", len(c1.SecretKey))
	}
	info, err := os.Stat(filepath.Join(dir, "secret_key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", info, err)
	}
	c2, _ := load(t, map[string]string{"GATHERING_DATA_DIR": dir})
	if err := c2.ResolveSecret(); err != nil || c2.SecretKey != c1.SecretKey {
		t.Fatalf("second start got another secret (%v)", err)
	}
	c3, _ := load(t, map[string]string{"GATHERING_DATA_DIR": dir, "SECRET_KEY": strings.Repeat("e", 32)})
	if err := c3.ResolveSecret(); err != nil || c3.SecretKeySource != "environment" {
		t.Fatalf("environment secret not kept: %v %s", err, c3.SecretKeySource)
	}
}

func TestShowMasksSecrets(t *testing.T) {
	t.Parallel()
	c, err := load(t, map[string]string{
		"SECRET_KEY":   "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t",
		"DATABASE_URL": "postgres://app:pa55word@db:5432/gathering",
		"REDIS_URL":    "redis://:r3dispass@cache:6379/0",
	})
	if err != nil {
		t.Fatal(err)
	}
	c.SecretKeySource = "environment"
	var all strings.Builder
	for _, s := range Settings() {
		all.WriteString(s.Show(c) + "\n")
	}
	for _, secret := range []string{"s3cr3t", "pa55word", "r3dispass"} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("shown configuration contains %q:\n%s", secret, all.String())
		}
	}
	if !strings.Contains(all.String(), "postgres://app:xxxxx@db:5432/gathering") {
		t.Errorf("database URL not shown redacted:\n%s", all.String())
	}
}

func TestFlagErrors(t *testing.T) {
	t.Parallel()
	if _, err := load(t, nil, "--no-such-flag"); err == nil {
		t.Fatal("unknown flag accepted")
	}
}

func TestREADMEListsEverySetting(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings() {
		row := "| `" + s.Env[0] + "`"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README's configuration table has no row for %s", s.Env[0])
		}
		if s.Default != "" && !strings.Contains(string(readme), "`"+s.Default+"`") {
			t.Errorf("README does not state the default of %s (%s)", s.Env[0], s.Default)
		}
	}
}

func TestToolSettings(t *testing.T) {
	t.Parallel()
	c, err := load(t, map[string]string{"GATHERING_DATA_DIR": "/srv/g", "GATHERING_SHELL_PROGRAMS": "go, make"})
	if err != nil {
		t.Fatal(err)
	}
	if c.WorkspaceBase() != filepath.Join("/srv/g", "workspaces") || c.ToolConfirmTimeout != 15*time.Minute || c.ToolConcurrency != 8 || strings.Join(c.ShellPrograms, " ") != "go make" {
		t.Errorf("tool settings: %s %s %d %q", c.WorkspaceBase(), c.ToolConfirmTimeout, c.ToolConcurrency, c.ShellPrograms)
	}
	env := map[string]string{
		"GATHERING_OUTBOUND_ALLOWLIST": "http://10.0.0.1/", "GATHERING_TOOL_CONFIRM_TIMEOUT": "10ms",
		"GATHERING_TOOL_CONCURRENCY": "0", "GATHERING_SHELL_PROGRAMS": "/bin/sh",
		"GATHERING_MCP_SERVERS": `[{"name":"x"}]`, "GATHERING_ENCRYPTION_KEY": "c2hvcnQ=", "GATHERING_AGENT_MAX_ROUNDS": "0",
	}
	_, err = load(t, env)
	for name := range env {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("no problem names %s in:\n%v", name, err)
		}
	}
}

func TestEmbedderSetting(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil)
	if err != nil || c.Embedder != "local" {
		t.Fatalf("default embedder %q: %v", c.Embedder, err)
	}
	if spec, err := ParseEmbedder(c.Embedder); err != nil || spec != (EmbedderSpec{}) {
		t.Fatalf("local: %+v %v", spec, err)
	}
	spec, err := ParseEmbedder("provider:ollama:nomic-embed-text:latest:768")
	if err != nil || spec != (EmbedderSpec{Provider: "ollama", Model: "nomic-embed-text:latest", Dimension: 768}) {
		t.Fatalf("provider: %+v %v", spec, err)
	}
	if spec, err := ParseEmbedder("provider:openai:text-embedding-3-large:8192"); err != nil || spec.Dimension != MaxEmbeddingDimension {
		t.Fatalf("largest dimension: %+v %v", spec, err)
	}
	for _, bad := range []string{"", "Local", "openai", "provider:openai", "provider:openai:8", "provider:openai::8",
		"provider:Open AI:m:8", "provider:openai:m:0", "provider:openai:m:8193", "provider:openai:m:x"} {
		if _, err := ParseEmbedder(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// A bad embedder is listed with the other problems.
	_, err = load(t, map[string]string{"GATHERING_EMBEDDER": "provider:openai:m:0", "PORT": "-1"})
	if err == nil || !strings.Contains(err.Error(), "GATHERING_EMBEDDER: the dimension") || !strings.Contains(err.Error(), "PORT") {
		t.Fatalf("problems: %v", err)
	}
}
