package main

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/store/pgtest"
)

// process is the real gathering binary running as a child process.
type process struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	stdout *syncBuffer
	url    string
	exited chan struct{}
	err    error // set when exited is closed
}

// launch starts the binary in dir with only the given environment (plus PATH
// and HOME), so nothing of the test runner's environment leaks in.
func launch(t *testing.T, dir string, vars []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binaryPath, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, vars...)
	p := &process{cmd: cmd, stderr: &syncBuffer{}, stdout: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr, cmd.Stdout = p.stderr, p.stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// serveProcess launches `gathering serve` on a random port and waits until
// it logs that it is ready.
func serveProcess(t *testing.T, dir string, vars ...string) *process {
	t.Helper()
	p := launch(t, dir, append([]string{"PORT=0", "GATHERING_LOG_FORMAT=json", "GATHERING_BCRYPT_COST=10"}, vars...), "serve")
	deadline := time.After(20 * time.Second)
	for p.url == "" {
		select {
		case <-p.exited:
			t.Fatalf("serve exited (%v) before it was ready:\n%s", p.err, p.stderr)
		case <-deadline:
			t.Fatalf("serve not ready within 20s:\n%s", p.stderr)
		case <-time.After(10 * time.Millisecond):
			p.url = p.stderr.readyURL()
		}
	}
	return p
}

// wait returns the exit code, failing the test after timeout.
func (p *process) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		t.Fatalf("still running after %s:\n%s", timeout, p.stderr)
	}
	if exitErr, ok := errors.AsType[*exec.ExitError](p.err); ok {
		return exitErr.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

func statusOf(url string) int {
	resp, err := (&http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestProcessZeroSetupServesHealthWithinTwoSeconds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	start := time.Now()
	p := launch(t, dir, []string{"PORT=0", "GATHERING_LOG_FORMAT=json"}, "serve") // default bcrypt cost
	for p.url = p.stderr.readyURL(); p.url == "" || statusOf(p.url+"/health") != 200; p.url = p.stderr.readyURL() {
		if time.Since(start) > 2*time.Second {
			t.Fatalf("no 200 from /health within 2s of start:\n%s", p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("start to /health 200: %s", time.Since(start))
	for _, name := range []string{"gathering.db", "secret_key"} {
		if _, err := os.Stat(filepath.Join(dir, "data", name)); err != nil {
			t.Errorf("zero-setup data directory: %v", err)
		}
	}
	// The newcomer logs in with the password printed on standard output,
	// which never reaches the log.
	password := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(p.stdout.String())
	if password == nil {
		t.Fatalf("no first administrator password on standard output:\n%s", p.stdout)
	}
	if strings.Contains(p.stderr.String(), password[1]) {
		t.Fatal("the first administrator's password is in the log")
	}
	resp, err := http.Post(p.url+"/auth/login/json", "application/json", strings.NewReader(`{"email":"admin@localhost","password":"`+password[1]+`"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("login with the printed password: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestProcessSecondServeOnSameFileIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	serveProcess(t, dir)
	second := launch(t, dir, []string{"PORT=0"}, "serve")
	if code := second.wait(t, 10*time.Second); code == 0 {
		t.Fatal("a second serve on the same SQLite file exited 0")
	}
	if out := second.stderr.String(); !strings.Contains(out, "locked") || !strings.Contains(out, "gathering.db.lock") {
		t.Fatalf("the error does not name the lock:\n%s", out)
	}
}

func TestProcessSIGTERMDrainsThenExitsZero(t *testing.T) {
	t.Parallel()
	p := serveProcess(t, t.TempDir(), "GATHERING_SHUTDOWN_DRAIN=1500ms")
	if got := statusOf(p.url + "/health/ready"); got != 200 {
		t.Fatalf("ready before the signal: %d", got)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	if got := statusOf(p.url + "/health/ready"); got != 503 {
		t.Fatalf("readiness during the drain: %d, want 503", got)
	}
	if got := statusOf(p.url + "/health/live"); got != 200 {
		t.Fatalf("liveness during the drain: %d, want 200", got)
	}
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, p.stderr)
	}
	if got := statusOf(p.url + "/health/live"); got != 0 {
		t.Fatalf("still answering after exit: %d", got)
	}
}

func TestProcessSecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	p := serveProcess(t, t.TempDir(), "GATHERING_SHUTDOWN_DRAIN=60s")
	p.cmd.Process.Signal(syscall.SIGTERM)
	for statusOf(p.url+"/health/ready") != 503 {
		time.Sleep(10 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t, 5*time.Second); code == 0 {
		t.Fatal("a second signal exited 0")
	}
	if !strings.Contains(p.stderr.String(), "second signal") {
		t.Fatalf("no word about the second signal:\n%s", p.stderr)
	}
}

func TestProcessTwoInstancesMigrateOneEmptyPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	a := launch(t, t.TempDir(), []string{"PORT=0", "GATHERING_LOG_FORMAT=json", "DATABASE_URL=" + url}, "serve")
	b := launch(t, t.TempDir(), []string{"PORT=0", "GATHERING_LOG_FORMAT=json", "DATABASE_URL=" + url}, "serve")
	for _, p := range []*process{a, b} {
		deadline := time.Now().Add(20 * time.Second)
		for p.url = p.stderr.readyURL(); p.url == ""; p.url = p.stderr.readyURL() {
			if time.Now().After(deadline) {
				t.Fatalf("instance not ready:\n%s", p.stderr)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := statusOf(p.url + "/health/ready"); got != 200 {
			t.Fatalf("ready: %d\n%s", got, p.stderr)
		}
	}
	status := launch(t, t.TempDir(), []string{"DATABASE_URL=" + url}, "migrate", "status")
	if code := status.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("migrate status: %d\n%s", code, status.stderr)
	}
	out := status.stdout.String()
	if !strings.Contains(out, "backend: postgres") || !strings.Contains(out, "installation: ") || strings.Contains(out, "pending") {
		t.Fatalf("migrate status:\n%s", out)
	}
}
