package builtin

import (
	"context"
	"time"

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
