package builtin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/procgroup"
)

// waitDelay is how long Wait waits for the output pipes once the process
// has exited or been killed (a grandchild may hold them open).
const waitDelay = time.Second

// proc is one subprocess run: no shell, its own process group, its output
// captured up to a limit.
type proc struct {
	path  string   // the program, resolved
	args  []string // its arguments, without the program name
	dir   string   // working directory
	env   []string // the complete environment
	stdin io.Reader
	// stdoutLimit and stderrLimit cap the bytes kept of each stream.
	stdoutLimit, stderrLimit int
	// killOnOverflow kills the process as soon as stdout overflows;
	// otherwise the excess is read and discarded until the process ends.
	killOnOverflow bool
}

// procResult is what a finished process left.
type procResult struct {
	exitCode       int // -1 when killed by a signal
	stdout, stderr *capped
}

// run starts the process and waits for it. When ctx ends first the whole
// process group is killed and run fails (ETIMEOUT for a deadline); after the
// process exits, whatever is left of its group is killed too, so nothing it
// started outlives the call. A nonzero exit is a result, not an error.
func (p proc) run(ctx context.Context) (procResult, error) {
	runCtx, kill := context.WithCancel(ctx)
	defer kill()
	stdout := &capped{limit: p.stdoutLimit}
	stderr := &capped{limit: p.stderrLimit}
	if p.killOnOverflow {
		stdout.overflowed = kill
	}
	cmd := p.command(runCtx, stdout, stderr)
	err := cmd.Run()
	_ = procgroup.Kill(cmd)
	res := procResult{exitCode: -1, stdout: stdout, stderr: stderr}
	switch {
	case cmd.ProcessState == nil:
		return res, procError(ctx, p.path, err)
	case ctx.Err() != nil:
		return res, procError(ctx, p.path, ctx.Err())
	}
	res.exitCode = cmd.ProcessState.ExitCode()
	return res, nil
}

// command builds the exec.Cmd of p, in a new process group that a
// cancelled ctx kills as a whole.
func (p proc) command(ctx context.Context, stdout, stderr io.Writer) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.path, p.args...)
	cmd.Dir, cmd.Env, cmd.Stdin = p.dir, p.env, p.stdin
	cmd.Stdout, cmd.Stderr = stdout, stderr
	procgroup.Isolate(cmd)
	cmd.Cancel = func() error { return procgroup.Kill(cmd) }
	cmd.WaitDelay = waitDelay
	return cmd
}

// procError maps the failure of a run: ETIMEOUT when ctx's deadline passed,
// ctx's own error when it was cancelled, EINTERNAL otherwise.
func procError(ctx context.Context, path string, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		e := gathering.Errorf(gathering.ETIMEOUT, "The program %q ran out of time and was killed.", filepath.Base(path))
		e.Err = err
		return e
	case ctx.Err() != nil:
		return ctx.Err()
	}
	e := gathering.Errorf(gathering.EINTERNAL, "The program %q could not be run.", filepath.Base(path))
	e.Err = err
	return e
}

// capped keeps the first limit bytes written to it and discards the rest,
// calling overflowed (when set) the first time it does. Read it only once
// the process has been waited for.
type capped struct {
	buf        bytes.Buffer
	limit      int
	over       bool
	overflowed func()
}

// Write implements io.Writer; it never fails, so the process is never
// blocked on a full pipe.
func (c *capped) Write(p []byte) (int, error) {
	room := c.limit - c.buf.Len()
	if len(p) <= room {
		return c.buf.Write(p)
	}
	c.buf.Write(p[:max(room, 0)])
	if !c.over && c.overflowed != nil {
		c.overflowed()
	}
	c.over = true
	return len(p), nil
}
