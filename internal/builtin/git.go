package builtin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/fsguard"
	"github.com/gathering/gathering/internal/gathering"
)

// Limits of the git tools.
const (
	gitTimeout     = 60 * time.Second
	gitOutputLimit = 4 << 20  // stdout of any git call
	gitStderrLimit = 64 << 10 // stderr kept for error messages
	diffLimit      = 1 << 20  // text git.diff returns
)

// repo is the git repository at the root of a workspace.
type repo struct{ root string }

// openRepo refuses a root whose .git is not a directory of its own (missing,
// a file pointing elsewhere, or a symbolic link).
func openRepo(root string) (repo, error) {
	info, err := os.Lstat(filepath.Join(root, ".git"))
	if err != nil || !info.IsDir() {
		return repo{}, gathering.Errorf(gathering.EINVALID, "The project's workspace is not a git repository; initialise it first.")
	}
	return repo{root: root}, nil
}

// gitCall is one git invocation.
type gitCall struct {
	args  []string
	env   []string // added to the base environment
	stdin io.Reader
	// truncate caps stdout at diffLimit and reports it instead of failing
	// with ETOOLARGE above gitOutputLimit.
	truncate bool
}

// exec runs c and returns what git left, whatever its exit code.
func (r repo) exec(ctx context.Context, c gitCall) (procResult, error) {
	path, err := exec.LookPath("git")
	if err != nil {
		e := gathering.Errorf(gathering.EUNAVAILABLE, "git is not installed on the server.")
		e.Err = err
		return procResult{}, e
	}
	limit := gitOutputLimit
	if c.truncate {
		limit = diffLimit
	}
	return proc{
		path: path, args: r.args(c.args), dir: r.root, env: r.env(c.env), stdin: c.stdin,
		stdoutLimit: limit, stderrLimit: gitStderrLimit, killOnOverflow: true,
	}.run(ctx)
}

// output runs c and returns its stdout and whether it was truncated. A
// nonzero exit fails, and so does stdout over gitOutputLimit unless
// c.truncate.
func (r repo) output(ctx context.Context, c gitCall) ([]byte, bool, error) {
	res, err := r.exec(ctx, c)
	switch {
	case err != nil:
		return nil, false, err
	case res.stdout.over && c.truncate:
		return res.stdout.buf.Bytes(), true, nil
	case res.stdout.over:
		return nil, false, gathering.Errorf(gathering.ETOOLARGE, "The output of git %s is larger than %d bytes; narrow it with a path or a limit.", c.args[0], gitOutputLimit)
	case res.exitCode != 0:
		return nil, false, r.failed(c.args[0], res)
	}
	return res.stdout.buf.Bytes(), false, nil
}

// run runs git with args and returns its stdout.
func (r repo) run(ctx context.Context, args ...string) ([]byte, error) {
	out, _, err := r.output(ctx, gitCall{args: args})
	return out, err
}

// args prefixes git's arguments with the repository and the settings that
// keep repository configuration from running programs or reaching the
// network.
func (r repo) args(args []string) []string {
	return append([]string{
		"-C", r.root,
		"-c", "core.hooksPath=" + os.DevNull,
		"-c", "core.fsmonitor=false",
		"-c", "protocol.allow=never",
		"-c", "commit.gpgSign=false",
		"-c", "log.showSignature=false",
	}, args...)
}

// env is git's whole environment: nothing from the server's own beyond
// PATH, no system or global configuration, no prompts, and the repository
// named explicitly so git never looks above the workspace.
func (r repo) env(extra []string) []string {
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
// complaint, without the workspace's absolute path or our pathspec magic.
func (r repo) failed(sub string, res procResult) error {
	msg := firstLine(res.stderr.buf.Bytes())
	if msg == "" {
		msg = firstLine(res.stdout.buf.Bytes())
	}
	msg = strings.NewReplacer(r.root, ".", literal, "", "fatal: ", "", "error: ", "").Replace(msg)
	e := gathering.Errorf(gathering.EINVALID, "git %s failed: %s", sub, msg)
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

// pathspec validates a path from the input at JSON pointer ptr and returns
// it as a literal pathspec (no globs or magic).
func pathspec(p, ptr string) (string, error) {
	if strings.HasPrefix(p, "-") {
		return "", fieldError(gathering.EINVALID, ptr, "A path must not start with '-'.")
	}
	clean, err := fsguard.CleanPath(p)
	if err != nil {
		return "", fieldError(gathering.ErrorCode(err), ptr, gathering.ErrorMessage(err))
	}
	return literal + clean, nil
}

// literal is the pathspec magic that turns off globs in a path.
const literal = ":(literal)"

// revRE is a commit, branch or tag name: hex or [A-Za-z0-9._/-], optionally
// followed by ancestry suffixes such as ~2 or ^.
var revRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}([~^][0-9]{0,3}){0,10}$`)

// checkRev validates a revision from the input at JSON pointer ptr.
func checkRev(rev, ptr string) error {
	if strings.HasPrefix(rev, "-") {
		return fieldError(gathering.EINVALID, ptr, "A revision must not start with '-'.")
	}
	if !revRE.MatchString(rev) || strings.Contains(rev, "..") {
		return fieldError(gathering.EINVALID, ptr, "Give one commit hash, branch or tag name (optionally with ~N or ^), not a range or an expression.")
	}
	return nil
}

// secretGlobs are the names fsguard treats as secret, as git globs.
var secretGlobs = []string{".env", ".env.*", ".ssh", "*.pem", "*.key", "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "credentials*"}

// paths returns "--", specs, and pathspecs excluding every secret-named
// file or directory, so that status, diff and add never show or stage one.
func paths(specs ...string) []string {
	out := append([]string{"--"}, specs...)
	for _, g := range secretGlobs {
		out = append(out, ":(exclude,glob,icase)**/"+g, ":(exclude,glob,icase)**/"+g+"/**")
	}
	return out
}
