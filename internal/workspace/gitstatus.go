package workspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/procgroup"
)

// Limits of the git calls.
const (
	gitTimeout     = 30 * time.Second
	gitOutputLimit = 4 << 20
	gitStderrLimit = 4 << 10
	gitWaitDelay   = time.Second
)

// isGitRepo reports whether root has a .git directory of its own (not a
// file pointing elsewhere, nor a symbolic link).
func isGitRepo(root string) bool {
	info, err := os.Lstat(filepath.Join(root, ".git"))
	return err == nil && info.IsDir()
}

// statusWords names the letters of git status --porcelain.
var statusWords = map[byte]string{
	'M': "modified", 'T': "type_changed", 'A': "added", 'D': "deleted", 'R': "renamed",
	'C': "copied", 'U': "unmerged", '?': "untracked", '!': "ignored",
}

// gitStatus returns the status word of every changed or untracked file of
// the repository at root, by root-relative path.
func gitStatus(ctx context.Context, root string) (map[string]string, error) {
	out, err := runGit(ctx, root, "status", "--porcelain=v1", "-z", "--no-renames", "--untracked-files=all", "--ignored=no")
	if err != nil {
		return nil, err
	}
	return parseStatus(out), nil
}

// parseStatus reads git status --porcelain=v1 -z --no-renames: the working
// tree's state wins over the index's when both are set.
func parseStatus(out []byte) map[string]string {
	status := map[string]string{}
	for rec := range strings.SplitSeq(string(out), "\x00") {
		if len(rec) < 4 {
			continue
		}
		letter := rec[1]
		if letter == ' ' {
			letter = rec[0]
		}
		status[rec[3:]] = statusWords[letter]
	}
	return status
}

// runGit runs git in root the way the git tools of internal/builtin do
// (replicated, as those are unexported): an environment with nothing of the
// server's but PATH, no system or global configuration, the repository
// named explicitly, settings that keep its configuration from running
// hooks or an fsmonitor or reaching the network, its own process group
// killed afterwards, bounded time and output.
func runGit(ctx context.Context, root string, args ...string) ([]byte, error) {
	bin, err := exec.LookPath("git")
	if err != nil {
		return nil, &gathering.Error{Code: gathering.EUNAVAILABLE, Message: "git is not installed on the server.", Err: err}
	}
	runCtx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	stdout := &capped{limit: gitOutputLimit, overflow: cancel}
	stderr := &capped{limit: gitStderrLimit}
	cmd := exec.CommandContext(runCtx, bin, gitArgs(root, args)...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = root, gitEnv(root), stdout, stderr
	procgroup.Isolate(cmd)
	cmd.Cancel = func() error { return procgroup.Kill(cmd) }
	cmd.WaitDelay = gitWaitDelay
	err = cmd.Run()
	_ = procgroup.Kill(cmd)
	if err := gitError(ctx, runCtx, args[0], err, stdout, stderr); err != nil {
		return nil, err
	}
	return stdout.buf.Bytes(), nil
}

// gitError maps how a git run ended: ETOOLARGE for too much output,
// ctx's error when the caller gave up, ETIMEOUT past gitTimeout, EINTERNAL
// for any other failure.
func gitError(ctx, runCtx context.Context, sub string, err error, stdout, stderr *capped) error {
	switch {
	case stdout.over:
		return gathering.Errorf(gathering.ETOOLARGE, "The output of git %s is larger than %d bytes.", sub, gitOutputLimit)
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(runCtx.Err(), context.DeadlineExceeded):
		return gathering.Errorf(gathering.ETIMEOUT, "git %s ran out of time and was killed.", sub)
	case err != nil:
		return &gathering.Error{Code: gathering.EINTERNAL, Message: "git " + sub + " failed.",
			Err: fmt.Errorf("%w: %s", err, bytes.TrimSpace(stderr.buf.Bytes()))}
	}
	return nil
}

// gitArgs prefixes args with the repository and the safety settings.
func gitArgs(root string, args []string) []string {
	return append([]string{
		"-C", root,
		"-c", "core.hooksPath=" + os.DevNull,
		"-c", "core.fsmonitor=false",
		"-c", "protocol.allow=never",
	}, args...)
}

// gitEnv is git's whole environment.
func gitEnv(root string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + root,
		"LANG=C",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_OPTIONAL_LOCKS=0",
		"GIT_DIR=" + filepath.Join(root, ".git"),
		"GIT_WORK_TREE=" + root,
	}
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
