package main

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// runCommand runs one command in-process with the given environment.
func runCommand(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runWithInput(t, vars, "", args...)
}

// runWithInput runs one command in-process with stdin holding input.
func runWithInput(t *testing.T, vars map[string]string, input string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := env{stdin: strings.NewReader(input), stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
	code = run(t.Context(), args, e)
	return code, out.String(), errOut.String()
}

func TestHelpOnEveryCommand(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"serve", "--help"}, {"migrate", "--help"}, {"migrate", "up", "--help"}, {"config", "-h"}, {"version", "--help"}, {"memory", "--help"}, {"memory", "reembed", "--help"}, {"pipeline", "--help"}, {"pipeline", "apply", "--help"}, {"pipeline", "export", "--help"}, {"--help"}} {
		code, stdout, stderr := runCommand(t, nil, args...)
		if code != exitOK || len(stdout+stderr) < 80 {
			t.Errorf("%v: code %d, output %q", args, code, stdout+stderr)
		}
	}
	_, _, stderr := runCommand(t, nil, "serve", "--help")
	for _, flag := range []string{"-port", "-host", "-data-dir", "-database-url", "-skip-migrations", "-shutdown-drain", "(env PORT)"} {
		if !strings.Contains(stderr, flag) {
			t.Errorf("serve --help does not explain %s", flag)
		}
	}
	if code, _, _ := runCommand(t, nil, "frobnicate"); code != exitUsage {
		t.Errorf("unknown command: code %d", code)
	}
	if code, _, _ := runCommand(t, nil); code != exitUsage {
		t.Errorf("no command: code %d", code)
	}
	if code, _, _ := runCommand(t, nil, "serve", "--no-such-flag"); code != exitUsage {
		t.Errorf("unknown flag: code %d", code)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runCommand(t, nil, "version")
	if code != 0 || !strings.HasPrefix(stdout, "gathering ") || !strings.Contains(stdout, "commit ") || !strings.Contains(stdout, "go1.") {
		t.Fatalf("version: %d %q", code, stdout)
	}
}

func TestConfigMasksSecrets(t *testing.T) {
	t.Parallel()
	vars := map[string]string{
		"SECRET_KEY":         "k3y-k3y-k3y-k3y-k3y-k3y-k3y-k3y-k3y",
		"DATABASE_URL":       "postgres://gathering:db-pa55@db.internal:5432/gathering",
		"REDIS_URL":          "redis://:r3dis-pa55@cache:6379/0",
		"GATHERING_DATA_DIR": t.TempDir(),
	}
	code, stdout, stderr := runCommand(t, vars, "config", "--port", "9999")
	if code != 0 {
		t.Fatalf("config: %d %s", code, stderr)
	}
	for _, secret := range []string{"k3y-k3y", "db-pa55", "r3dis-pa55"} {
		if strings.Contains(stdout, secret) {
			t.Errorf("config prints %q:\n%s", secret, stdout)
		}
	}
	for _, want := range []string{"postgres://gathering:xxxxx@db.internal:5432/gathering", "9999", "flag --port", "env SECRET_KEY", "GATHERING_SHUTDOWN_DRAIN"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("config lacks %q:\n%s", want, stdout)
		}
	}
}

func TestInvalidConfigurationListsEveryProblem(t *testing.T) {
	t.Parallel()
	code, _, stderr := runCommand(t, map[string]string{"GATHERING_ENV": "production", "CORS_ORIGINS": "*", "PORT": "x"}, "serve")
	if code != exitError {
		t.Fatalf("code %d", code)
	}
	for _, want := range []string{"SECRET_KEY", "CORS_ORIGINS", "PORT"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("no problem names %s:\n%s", want, stderr)
		}
	}
}

func TestMigrateOnSQLite(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"GATHERING_DATA_DIR": t.TempDir()}
	code, stdout, _ := runCommand(t, vars, "migrate", "status")
	if code != 0 || !strings.Contains(stdout, "pending") {
		t.Fatalf("status before: %d\n%s", code, stdout)
	}
	code, stdout, _ = runCommand(t, vars, "migrate", "up")
	if code != 0 || !strings.Contains(stdout, "applied [1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16]") {
		t.Fatalf("up: %d\n%s", code, stdout)
	}
	code, stdout, _ = runCommand(t, vars, "migrate", "up")
	if code != 0 || !strings.Contains(stdout, "up to date") {
		t.Fatalf("second up: %d\n%s", code, stdout)
	}
	code, stdout, _ = runCommand(t, vars, "migrate", "status")
	if code != 0 || strings.Contains(stdout, "pending") || !strings.Contains(stdout, "0001") || !strings.Contains(stdout, "installation: ") {
		t.Fatalf("status after: %d\n%s", code, stdout)
	}
	if code, _, _ := runCommand(t, vars, "migrate", "sideways"); code != exitUsage {
		t.Fatalf("unknown migrate action: %d", code)
	}
}

func TestSkipMigrationsRefusesAPendingSchema(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"GATHERING_DATA_DIR": t.TempDir(), "PORT": "0"}
	code, _, stderr := runCommand(t, vars, "serve", "--skip-migrations")
	if code != exitError || !strings.Contains(stderr, "gathering migrate up") {
		t.Fatalf("serve --skip-migrations on an empty database: %d\n%s", code, stderr)
	}
}

func TestUserCommands(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"GATHERING_DATA_DIR": t.TempDir(), "GATHERING_BCRYPT_COST": "10"}
	mustRun := func(input string, args ...string) string {
		t.Helper()
		code, stdout, stderr := runWithInput(t, vars, input, args...)
		if code != 0 {
			t.Fatalf("%v: %d %s", args, code, stderr)
		}
		return stdout
	}
	mustRun("ops-password-1\n", "user", "create", "--email", "Ops@Example.com", "--role", "admin")
	mustRun("dev-password-1\n", "user", "create", "--email", "dev@example.com", "--name", "Dev")
	if out := mustRun("", "user", "list"); !strings.Contains(out, "ops@example.com") || !strings.Contains(out, "dev@example.com") || !strings.Contains(out, "member") {
		t.Fatalf("user list:\n%s", out)
	}
	if code, _, stderr := runWithInput(t, vars, "", "user", "set-role", "--email", "ops@example.com", "--role", "viewer"); code == 0 || !strings.Contains(stderr, "admin") {
		t.Fatalf("demoting the last administrator: %d %s", code, stderr)
	}
	mustRun("", "user", "set-role", "--email", "dev@example.com", "--role", "admin")
	mustRun("", "user", "deactivate", "--email", "ops@example.com")
	mustRun("new-password-2\n", "user", "reset-password", "--email", "dev@example.com")
	if code, _, stderr := runWithInput(t, vars, "short\n", "user", "create", "--email", "x@example.com"); code == 0 || !strings.Contains(stderr, "password") {
		t.Fatalf("a short password: %d %s", code, stderr)
	}
	if code, _, stderr := runWithInput(t, vars, "", "user", "create", "--email", "y@example.com"); code == 0 || !strings.Contains(stderr, "standard input") {
		t.Fatalf("no password on stdin: %d %s", code, stderr)
	}
	srv := startServe(t, map[string]string{"GATHERING_DATA_DIR": vars["GATHERING_DATA_DIR"]})
	if code, body := request(t, "POST", srv.url+"/auth/login/json", "", `{"email":"dev@example.com","password":"new-password-2"}`); code != 200 {
		t.Fatalf("login with the reset password: %d %s", code, body)
	}
	if code, _ := request(t, "POST", srv.url+"/auth/login/json", "", `{"email":"ops@example.com","password":"ops-password-1"}`); code != 401 {
		t.Fatalf("login of a deactivated user: %d", code)
	}
}

func TestAdministratorFromEnvironment(t *testing.T) {
	t.Parallel()
	hash, err := bcrypt.GenerateFromPassword([]byte("env-admin-password"), 10)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, map[string]string{"ADMIN_EMAIL": "Boss@Example.com", "ADMIN_PASSWORD_HASH": string(hash)})
	token := accessToken(t, srv.url, "boss@example.com", "env-admin-password")
	if code, body := request(t, "GET", srv.url+"/users", token, ""); code != 200 || strings.Contains(body, "admin@localhost") {
		t.Fatalf("users as the configured administrator: %d %s", code, body)
	}
}

func TestProductionRefusesToStartWithoutAdministrator(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"GATHERING_ENV": "production", "SECRET_KEY": strings.Repeat("p", 40), "GATHERING_DATA_DIR": t.TempDir(), "PORT": "0", "GATHERING_LOG_FORMAT": "json"}
	code, _, stderr := runCommand(t, vars, "serve")
	if code != exitError || !strings.Contains(stderr, "production needs an administrator") {
		t.Fatalf("production without an administrator: %d %s", code, stderr)
	}
}
