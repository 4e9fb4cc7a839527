package builtin

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// shellPrograms is the allow-list the shell tests use; sh lets them start
// grandchildren and read stdin.
var shellPrograms = []string{"echo", "env", "pwd", "sleep", "seq", "sh"}

func TestShellNotOfferedWithoutPrograms(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	_, err := b.call("shell.run", in{"project_id": "p", "program": "echo"})
	wantCode(t, "shell.run without programs", err, gathering.ENOTFOUND)
}

func TestShellRun(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{ShellPrograms: shellPrograms})
	root := b.root(t, "p")
	out := b.mustCall(t, "shell.run", in{"project_id": "p", "program": "echo", "args": []string{"hello", "world"}})
	if out["stdout"] != "hello world\n" || out["stderr"] != "" || out["exit_code"] != 0.0 || out["truncated"] != false {
		t.Fatalf("echo: %v", out)
	}
	// No shell: metacharacters reach the program as they are.
	args := []string{"$HOME", "*", "a;b", "`id`", "$(id)", "|", ">x"}
	out = b.mustCall(t, "shell.run", in{"project_id": "p", "program": "echo", "args": args})
	if out["stdout"] != strings.Join(args, " ")+"\n" {
		t.Fatalf("echo metacharacters: %v", out)
	}
	if _, err := os.Stat(filepath.Join(root, "x")); !os.IsNotExist(err) {
		t.Fatalf("a redirection happened: %v", err)
	}
	if out := b.mustCall(t, "shell.run", in{"project_id": "p", "program": "pwd"}); out["stdout"] != root+"\n" {
		t.Fatalf("pwd: %v, want %s", out, root)
	}
	out = b.mustCall(t, "shell.run", in{"project_id": "p", "program": "sh", "args": []string{"-c", "read x; echo got:$x; echo oops >&2; exit 3"}, "stdin": "hi\n"})
	if out["stdout"] != "got:hi\n" || out["stderr"] != "oops\n" || out["exit_code"] != 3.0 {
		t.Fatalf("sh with stdin and a nonzero exit: %v", out)
	}
}

func TestShellRefusesPrograms(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{ShellPrograms: []string{"echo", "no-such-program-gathering"}})
	for program, code := range map[string]string{
		"cat":                       gathering.EFORBIDDEN,
		"sh":                        gathering.EFORBIDDEN,
		"ECHO":                      gathering.EFORBIDDEN,
		"echo ":                     gathering.EFORBIDDEN,
		"/bin/echo":                 gathering.EINVALID,
		"./echo":                    gathering.EINVALID,
		"../../bin/echo":            gathering.EINVALID,
		`bin\echo`:                  gathering.EINVALID,
		"no-such-program-gathering": gathering.ENOTFOUND,
	} {
		_, err := b.call("shell.run", in{"project_id": "p", "program": program})
		wantField(t, "shell.run "+program, err, code, "/program")
	}
}

// TestShellEnvironment is not parallel: it sets variables in the test
// process that must not reach the program.
func TestShellEnvironment(t *testing.T) {
	t.Setenv("SECRET_KEY", "canary-secret-key")
	t.Setenv("DATABASE_URL", "postgres://canary:canary@db/app")
	t.Setenv("GATHERING_CANARY", "canary")
	b := setup(t, Options{ShellPrograms: shellPrograms})
	root := b.root(t, "p")
	out := b.mustCall(t, "shell.run", in{"project_id": "p", "program": "env"})
	stdout := out["stdout"].(string)
	if strings.Contains(stdout, "canary") {
		t.Fatalf("the server's environment leaked: %s", stdout)
	}
	var keys []string
	for line := range strings.Lines(stdout) {
		k, v, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "=")
		keys = append(keys, k)
		if k == "HOME" && v != root || k == "LANG" && v != "C.UTF-8" {
			t.Errorf("%s=%s", k, v)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"HOME", "LANG", "PATH"}) {
		t.Fatalf("environment %v, want HOME, LANG and PATH only", keys)
	}
}

func TestShellTimeoutKillsProcessGroup(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{ShellPrograms: shellPrograms, ShellTimeout: 300 * time.Millisecond})
	root := b.root(t, "p")
	start := time.Now()
	_, err := b.call("shell.run", in{"project_id": "p", "program": "sleep", "args": []string{"30"}})
	wantCode(t, "sleep 30", err, gathering.ETIMEOUT)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("sleep 30 ran %s with a 300ms timeout", d)
	}
	// A grandchild in the background dies with its parent.
	_, err = b.call("shell.run", in{"project_id": "p", "program": "sh", "args": []string{"-c", "sleep 30 & echo $! > bg.pid; wait"}})
	wantCode(t, "sh with a background sleep", err, gathering.ETIMEOUT)
	pidText, err := os.ReadFile(filepath.Join(root, "bg.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidText)))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); alive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d still runs", pid)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %s", d)
	}
}

// TestShellReapsLeftovers: a background process the program leaves behind
// when it exits normally is killed too.
func TestShellReapsLeftovers(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{ShellPrograms: shellPrograms})
	out := b.mustCall(t, "shell.run", in{"project_id": "p", "program": "sh", "args": []string{"-c", "sleep 30 >/dev/null 2>&1 & echo $!"}})
	pid, err := strconv.Atoi(strings.TrimSpace(out["stdout"].(string)))
	if err != nil {
		t.Fatalf("sh: %v", out)
	}
	for deadline := time.Now().Add(5 * time.Second); alive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("leftover %d still runs", pid)
		}
	}
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z")
}

func TestShellOutputCap(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{ShellPrograms: shellPrograms, ShellOutputLimit: 100})
	out := b.mustCall(t, "shell.run", in{"project_id": "p", "program": "seq", "args": []string{"100000"}})
	var want strings.Builder
	for i := 1; want.Len() < 100; i++ {
		want.WriteString(strconv.Itoa(i) + "\n")
	}
	if out["truncated"] != true || out["stdout"] != want.String()[:100] || out["exit_code"] != 0.0 {
		t.Fatalf("seq 100000 with a 100-byte limit: %v", out)
	}
	out = b.mustCall(t, "shell.run", in{"project_id": "p", "program": "sh", "args": []string{"-c", "seq 100000 >&2; echo done"}})
	if out["truncated"] != true || len(out["stderr"].(string)) != 100 || out["stdout"] != "done\n" {
		t.Fatalf("stderr over the limit: %v", out)
	}
	if out := b.mustCall(t, "shell.run", in{"project_id": "p", "program": "echo", "args": []string{"short"}}); out["truncated"] != false {
		t.Fatalf("short output: %v", out)
	}
}
