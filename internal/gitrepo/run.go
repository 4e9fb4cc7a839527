package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/procgroup"
)

// Limits of every git call.
const (
	Timeout     = 60 * time.Second // one git run; the process group is killed past it
	OutputLimit = 4 << 20          // stdout of any git call; more is ETOOLARGE
	DiffLimit   = 1 << 20          // text Diff returns; more is truncated
	stderrLimit = 64 << 10         // stderr kept for error messages
	waitDelay   = time.Second      // how long Wait waits for pipes a grandchild holds
)

// Repo is the git repository at the root of a project's directory. Get one
// from Open or Init; it is safe for concurrent use (git's own locks apply).
type Repo struct{ root string }

// Open returns the repository at root (an absolute directory). It refuses a
// root whose .git is not a directory of its own (missing, a gitfile
// pointing elsewhere, or a symbolic link) with EINVALID.
func Open(root string) (Repo, error) {
	info, err := os.Lstat(filepath.Join(root, ".git"))
	if err != nil || !info.IsDir() {
		return Repo{}, gathering.Errorf(gathering.EINVALID, "The project's workspace is not a git repository; initialise it first.")
	}
	return Repo{root: root}, nil
}

// Init creates an empty repository at root on branch main, without hook
// samples or other templates, and returns it. ECONFLICT when root already
// has a .git of any kind.
func Init(ctx context.Context, root string) (Repo, error) {
	if _, err := os.Lstat(filepath.Join(root, ".git")); !errors.Is(err, os.ErrNotExist) {
		return Repo{}, gathering.Errorf(gathering.ECONFLICT, "The project's workspace is already a git repository.")
	}
	r := Repo{root: root}
	if _, err := r.run(ctx, "init", "--quiet", "--template=", "--initial-branch=main"); err != nil {
		return Repo{}, err
	}
	return r, nil
}

// call is one git invocation.
type call struct {
	args  []string
	env   []string // added to the base environment
	stdin io.Reader
	// truncate caps stdout at DiffLimit and reports it instead of failing
	// with ETOOLARGE above OutputLimit.
	truncate bool
}

// result is what a finished git process left.
type result struct {
	exitCode       int // -1 when killed
	stdout, stderr *capped
}

// exec runs c and returns what git left, whatever its exit code. The run
// fails when git cannot be started, when ctx ends (ETIMEOUT for a
// deadline) and past Timeout (ETIMEOUT); a stdout overflow kills git and is
// left for the caller to see in stdout.over.
func (r Repo) exec(ctx context.Context, c call) (result, error) {
	bin, err := exec.LookPath("git")
	if err != nil {
		return result{}, &gathering.Error{Code: gathering.EUNAVAILABLE, Message: "git is not installed on the server.", Err: err}
	}
	runCtx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	res := result{exitCode: -1, stdout: &capped{limit: OutputLimit, overflow: cancel}, stderr: &capped{limit: stderrLimit}}
	if c.truncate {
		res.stdout.limit = DiffLimit
	}
	cmd := r.command(runCtx, bin, c, res)
	err = cmd.Run()
	_ = procgroup.Kill(cmd)
	if res.stdout.over {
		return res, nil
	}
	if err := runError(ctx, runCtx, c.args[0], cmd, err); err != nil {
		return res, err
	}
	res.exitCode = cmd.ProcessState.ExitCode()
	return res, nil
}

// command builds the exec.Cmd of c, in a process group of its own that a
// cancelled ctx kills as a whole.
func (r Repo) command(ctx context.Context, bin string, c call, res result) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, r.args(c.args)...)
	cmd.Dir, cmd.Env, cmd.Stdin = r.root, r.env(c.env), c.stdin
	cmd.Stdout, cmd.Stderr = res.stdout, res.stderr
	procgroup.Isolate(cmd)
	cmd.Cancel = func() error { return procgroup.Kill(cmd) }
	cmd.WaitDelay = waitDelay
	return cmd
}

// runError maps how a git run ended: ETIMEOUT for a deadline (the caller's
// or Timeout), ctx's error when the caller gave up, EINTERNAL when git could
// not be run; nil when git exited on its own.
func runError(ctx, runCtx context.Context, sub string, cmd *exec.Cmd, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(runCtx.Err(), context.DeadlineExceeded):
		return &gathering.Error{Code: gathering.ETIMEOUT, Message: "git " + sub + " ran out of time and was killed.", Err: err}
	case ctx.Err() != nil:
		return ctx.Err()
	case cmd.ProcessState == nil:
		return &gathering.Error{Code: gathering.EINTERNAL, Message: "git " + sub + " could not be run.", Err: err}
	}
	return nil
}

// output runs c and returns its stdout and whether it was truncated. A
// nonzero exit fails, and so does stdout over OutputLimit unless
// c.truncate.
func (r Repo) output(ctx context.Context, c call) ([]byte, bool, error) {
	res, err := r.exec(ctx, c)
	switch {
	case err != nil:
		return nil, false, err
	case res.stdout.over && c.truncate:
		return res.stdout.buf.Bytes(), true, nil
	case res.stdout.over:
		return nil, false, gathering.Errorf(gathering.ETOOLARGE, "The output of git %s is larger than %d bytes; narrow it with a path or a limit.", c.args[0], OutputLimit)
	case res.exitCode != 0:
		return nil, false, r.failed(c.args[0], res)
	}
	return res.stdout.buf.Bytes(), false, nil
}

// run runs git with args and returns its stdout.
func (r Repo) run(ctx context.Context, args ...string) ([]byte, error) {
	out, _, err := r.output(ctx, call{args: args})
	return out, err
}

// args prefixes git's arguments with the repository and the settings that
// keep repository configuration from running programs or reaching the
// network.
func (r Repo) args(args []string) []string {
	return append([]string{
		"-C", r.root,
		"-c", "core.hooksPath=" + os.DevNull,
		"-c", "core.fsmonitor=false",
		"-c", "protocol.allow=never",
		"-c", "commit.gpgSign=false",
		"-c", "tag.gpgSign=false",
		"-c", "log.showSignature=false",
	}, args...)
}

// env is git's whole environment: nothing from the server's own beyond
// PATH, no system or global configuration, no prompts, and the repository
// named explicitly so git never looks above the workspace.
func (r Repo) env(extra []string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + r.root,
		"LANG=C",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_OPTIONAL_LOCKS=0", // status does not take the index lock a concurrent add needs
		"GIT_DIR=" + filepath.Join(r.root, ".git"),
		"GIT_WORK_TREE=" + r.root,
	}, extra...)
}

// failed turns a nonzero exit into EINVALID carrying git's first line of
// complaint, without the workspace's absolute path or our pathspec magic;
// a lock another git process holds is ECONFLICT.
func (r Repo) failed(sub string, res result) error {
	msg := firstLine(res.stderr.buf.Bytes())
	if msg == "" {
		msg = firstLine(res.stdout.buf.Bytes())
	}
	msg = strings.NewReplacer(r.root, ".", literal, "", "fatal: ", "", "error: ", "").Replace(msg)
	e := gathering.Errorf(gathering.EINVALID, "git %s failed: %s", sub, msg)
	if bytes.Contains(res.stderr.buf.Bytes(), []byte(".lock': File exists")) {
		e = gathering.Errorf(gathering.ECONFLICT, "git %s failed: another git operation is in progress in this repository; try again.", sub)
	}
	e.Err = fmt.Errorf("exit status %d: %s", res.exitCode, bytes.TrimSpace(res.stderr.buf.Bytes()))
	return e
}

// firstLine returns the first non-blank line of b, at most 500 bytes of it.
func firstLine(b []byte) string {
	for line := range bytes.Lines(b) {
		if s := strings.TrimSpace(string(line)); s != "" {
			return s[:min(len(s), 500)]
		}
	}
	return ""
}

// capped keeps the first limit bytes written to it, discards the rest and
// calls overflow (when set) the first time it does. Read it only after the
// process has been waited for.
type capped struct {
	buf      bytes.Buffer
	limit    int
	over     bool
	overflow func()
}

// Write implements io.Writer; it never fails, so git never blocks on a
// full pipe.
func (c *capped) Write(p []byte) (int, error) {
	room := c.limit - c.buf.Len()
	if len(p) <= room {
		return c.buf.Write(p)
	}
	c.buf.Write(p[:max(room, 0)])
	if !c.over && c.overflow != nil {
		c.overflow()
	}
	c.over = true
	return len(p), nil
}
