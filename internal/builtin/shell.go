package builtin

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/fsguard"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/tool"
)

// shellMargin is how much longer than a shell run the tool's own timeout
// is, so the run's deadline, not the registry's, stops the program.
const shellMargin = 5 * time.Second

// shellConfig is the shell skill's share of Options, with defaults applied.
type shellConfig struct {
	programs []string
	timeout  time.Duration
	limit    int
}

func newShellConfig(o Options) shellConfig {
	return shellConfig{
		programs: slices.Clone(o.ShellPrograms),
		timeout:  cmp.Or(o.ShellTimeout, DefaultShellTimeout),
		limit:    cmp.Or(o.ShellOutputLimit, DefaultShellOutputLimit),
	}
}

type shellInput struct {
	project
	Program string   `json:"program"`
	Args    []string `json:"args"`
	Stdin   string   `json:"stdin"`
}

type shellOutput struct {
	ExitCode  int    `json:"exit_code"`
	Stdout    string `json:"stdout"`
	Stderr    string `json:"stderr"`
	Truncated bool   `json:"truncated"`
}

// shellTool returns shell.run.
func shellTool(ws workspaces, c shellConfig) tool.Tool {
	return tool.Tool{
		Name: "shell.run",
		Description: fmt.Sprintf("Run one program in the project's workspace directory and return its exit code and output. "+
			"Allowed programs: %s. The arguments are passed to the program as they are: there is no shell, so no pipes, "+
			"redirections, globs or variables. The program gets no environment beyond PATH, HOME and LANG; it is killed, and the call fails, "+
			"after %s; stdout and stderr are each cut at %d bytes (truncated is then true). A nonzero exit code is a normal result.",
			strings.Join(c.programs, ", "), c.timeout, c.limit),
		Input: mustJSON(object(withProject(map[string]prop{
			"program": str("The bare name of an allowed program, without a path.", 1, 100),
			"args": {"type": "array", "maxItems": 100, "description": "The program's arguments, one per item.",
				"items": str("One argument.", 0, 32768)},
			"stdin": str("Text given to the program on its standard input.", 0, 1<<20),
		}), "project_id", "program")),
		Output: output(map[string]prop{
			"exit_code": typ("integer"), "stdout": typ("string"), "stderr": typ("string"), "truncated": typ("boolean"),
		}),
		Permissions: []tool.Permission{tool.PermExec, tool.PermAdmin},
		Dangerous:   true,
		Timeout:     c.timeout + shellMargin,
		Run: body(func(ctx context.Context, in shellInput) (any, error) {
			return ws.with(ctx, in.ProjectID, func(root string, _ *fsguard.Dir) (any, error) {
				return c.run(ctx, root, in)
			})
		}),
	}
}

// run runs the program in root. Output over the limit is read and
// discarded, so the program finishes normally and its exit code stays
// meaningful; the timeout bounds a program that never stops writing.
func (c shellConfig) run(ctx context.Context, root string, in shellInput) (any, error) {
	path, err := c.resolve(in.Program)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var stdin io.Reader
	if in.Stdin != "" {
		stdin = strings.NewReader(in.Stdin)
	}
	res, err := proc{
		path: path, args: in.Args, dir: root, stdin: stdin,
		env:         []string{"PATH=" + os.Getenv("PATH"), "HOME=" + root, "LANG=C.UTF-8"},
		stdoutLimit: c.limit, stderrLimit: c.limit,
	}.run(ctx)
	if err != nil {
		return nil, err
	}
	return shellOutput{
		ExitCode: res.exitCode, Stdout: res.stdout.buf.String(), Stderr: res.stderr.buf.String(),
		Truncated: res.stdout.over || res.stderr.over,
	}, nil
}

// resolve checks program against the allow-list and finds it on PATH.
func (c shellConfig) resolve(program string) (string, error) {
	if strings.ContainsAny(program, `/\`) {
		return "", fieldError(gathering.EINVALID, "/program", "Give the bare name of a program, without a path.")
	}
	if !slices.Contains(c.programs, program) {
		msg := fmt.Sprintf("%q is not an allowed program; allowed: %s.", program, strings.Join(c.programs, ", "))
		return "", fieldError(gathering.EFORBIDDEN, "/program", msg)
	}
	path, err := exec.LookPath(program)
	if err != nil {
		e := fieldError(gathering.ENOTFOUND, "/program", fmt.Sprintf("The program %q is not installed on the server.", program))
		e.Err = err
		return "", e
	}
	return path, nil
}
