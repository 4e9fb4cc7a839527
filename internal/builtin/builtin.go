package builtin

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/tool"
)

// Defaults of Options.
const (
	DefaultShellTimeout     = 60 * time.Second
	DefaultShellOutputLimit = 1 << 20
)

// Workspaces resolves a project id to its workspace root directory.
type Workspaces interface {
	Root(ctx context.Context, projectID string) (string, error)
}

// BaseDir is the Workspaces used until projects exist: <base>/<project id>,
// created on demand (0o750).
type BaseDir string

var projectIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Root validates projectID (1 to 64 characters of [A-Za-z0-9_-]) and
// returns the absolute path of its workspace, creating it when missing. A
// bad id is EINVALID with a FieldError on "project_id".
func (b BaseDir) Root(_ context.Context, projectID string) (string, error) {
	if !projectIDRE.MatchString(projectID) {
		msg := "must be 1 to 64 letters, digits, '_' or '-'"
		return "", gathering.Invalid("The project id is invalid.", gathering.FieldError{Field: "project_id", Message: msg})
	}
	if b == "" {
		return "", gathering.Errorf(gathering.EINTERNAL, "No workspace directory is configured.")
	}
	root, err := filepath.Abs(filepath.Join(string(b), projectID))
	if err == nil {
		err = os.MkdirAll(root, 0o750)
	}
	if err != nil {
		e := gathering.Errorf(gathering.EINTERNAL, "The workspace of project %q cannot be created.", projectID)
		e.Err = err
		return "", e
	}
	return root, nil
}

// Options configures the local skills. The zero value offers calc only.
type Options struct {
	// Workspaces resolves project ids; nil: the fs, git and shell skills
	// are not offered.
	Workspaces Workspaces
	// ShellPrograms is the allow-list of program names the shell tool may
	// run; empty: the shell skill is not offered. Names are bare ("git",
	// not "/usr/bin/git"), found on PATH at each call, and compared
	// exactly.
	ShellPrograms []string
	// ShellTimeout bounds one shell run; zero: DefaultShellTimeout.
	ShellTimeout time.Duration
	// ShellOutputLimit caps, in bytes, each of a shell run's stdout and
	// stderr; zero: DefaultShellOutputLimit.
	ShellOutputLimit int
}

// Tools returns the fs, git, calc and (when ShellPrograms is set) shell
// tools.
func Tools(o Options) []tool.Tool {
	tools := []tool.Tool{calcTool()}
	if o.Workspaces == nil {
		return tools
	}
	ws := workspaces{o.Workspaces}
	tools = append(tools, fsTools(ws)...)
	tools = append(tools, gitTools(ws)...)
	if len(o.ShellPrograms) > 0 {
		tools = append(tools, shellTool(ws, newShellConfig(o)))
	}
	return tools
}
