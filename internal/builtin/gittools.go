package builtin

import (
	"cmp"
	"context"
	"strconv"
	"strings"

	"github.com/gathering/gathering/internal/fsguard"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/tool"
)

// Defaults of the git tools.
const (
	defaultLogLimit = 20
	maxLogLimit     = 200
	defaultName     = "GatheRing"
	defaultEmail    = "gathering@localhost"
)

// gitTools returns the git skill.
func gitTools(ws workspaces) []tool.Tool {
	return []tool.Tool{gitStatus(ws), gitLog(ws), gitDiff(ws), gitBranches(ws), gitAdd(ws), gitCommit(ws)}
}

// gitTool fills in what every git tool shares: the git permission (plus
// extra) and the timeout.
func gitTool(t tool.Tool, extra ...tool.Permission) tool.Tool {
	t.Permissions = append([]tool.Permission{tool.PermGit}, extra...)
	t.Timeout = gitTimeout
	return t
}

// withRepo opens projectID's workspace and runs f on its repository.
func (w workspaces) withRepo(ctx context.Context, projectID string, f func(repo) (any, error)) (any, error) {
	return w.with(ctx, projectID, func(root string, _ *fsguard.Dir) (any, error) {
		r, err := openRepo(root)
		if err != nil {
			return nil, err
		}
		return f(r)
	})
}

// gitBody adapts a repository operation to a tool body.
func gitBody[In interface{ projectID() string }](ws workspaces, f func(context.Context, repo, In) (any, error)) tool.RunFunc {
	return body(func(ctx context.Context, in In) (any, error) {
		return ws.withRepo(ctx, in.projectID(), func(r repo) (any, error) { return f(ctx, r, in) })
	})
}

func (p project) projectID() string { return p.ProjectID }

func gitStatus(ws workspaces) tool.Tool {
	return gitTool(tool.Tool{
		Name: "git.status",
		Description: "Show the current branch and every changed, staged or untracked file of the project's git repository. " +
			"Each entry gives the path, its state in the index (staged) and in the working tree, and for a rename the original path.",
		Input:  mustJSON(object(withProject(map[string]prop{}), "project_id")),
		Output: output(map[string]prop{"branch": typ("string"), "entries": typ("array")}),
		Run: gitBody(ws, func(ctx context.Context, r repo, _ project) (any, error) {
			out, err := r.run(ctx, append([]string{"status", "--porcelain=v1", "-z", "--branch", "--untracked-files=all"}, paths()...)...)
			if err != nil {
				return nil, err
			}
			branch, entries := parseStatus(out)
			return map[string]any{"branch": branch, "entries": entries}, nil
		}),
	})
}

type gitLogInput struct {
	project
	Limit int    `json:"limit"`
	Path  string `json:"path"`
}

func gitLog(ws workspaces) tool.Tool {
	return gitTool(tool.Tool{
		Name:        "git.log",
		Description: "List the most recent commits of the current branch, newest first, optionally only those touching a path: hash, author, date (RFC 3339) and subject line.",
		Input: mustJSON(object(withProject(map[string]prop{
			"limit": integer("How many commits to return (default 20).", 1, maxLogLimit),
			"path":  pathProp("Only commits that changed this file or directory."),
		}), "project_id")),
		Output: output(map[string]prop{"commits": typ("array")}),
		Run:    gitBody(ws, runLog),
	})
}

// logFormat puts one commit's fields apart with unit separators; -z ends
// each commit with a NUL.
const logFormat = "%H%x1f%an%x1f%ae%x1f%aI%x1f%s"

func runLog(ctx context.Context, r repo, in gitLogInput) (any, error) {
	args := []string{"log", "-z", "--format=" + logFormat, "-n", strconv.Itoa(cmp.Or(in.Limit, defaultLogLimit)), "--end-of-options", "--"}
	if in.Path != "" {
		spec, err := pathspec(in.Path, "/path")
		if err != nil {
			return nil, err
		}
		args = append(args, spec)
	}
	out, err := r.run(ctx, args...)
	if err != nil && !r.hasCommits(ctx) {
		out, err = nil, nil // a new repository has no history yet
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"commits": parseLog(out)}, nil
}

// hasCommits reports whether HEAD names a commit.
func (r repo) hasCommits(ctx context.Context) bool {
	_, err := r.run(ctx, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
	return err == nil
}

type gitDiffInput struct {
	project
	Commit string `json:"commit"`
	Path   string `json:"path"`
	Staged bool   `json:"staged"`
}

func gitDiff(ws workspaces) tool.Tool {
	return gitTool(tool.Tool{
		Name: "git.diff",
		Description: "Show changes as a unified diff. By default: working tree against the index (unstaged changes); " +
			"with staged: the index against the last commit; with commit: the working tree (or, with staged, the index) against that commit. " +
			"The text is cut at 1 MiB, with truncated set.",
		Input: mustJSON(object(withProject(map[string]prop{
			"commit": str("A commit hash, branch or tag to compare with, such as HEAD~1 or main.", 1, 200),
			"path":   pathProp("Only changes to this file or directory."),
			"staged": boolean("Compare the index (what the next commit will hold) instead of the working tree."),
		}), "project_id")),
		Output: output(map[string]prop{"diff": typ("string"), "truncated": typ("boolean")}),
		Run:    gitBody(ws, runDiff),
	})
}

func runDiff(ctx context.Context, r repo, in gitDiffInput) (any, error) {
	args, err := diffArgs(in)
	if err != nil {
		return nil, err
	}
	out, truncated, err := r.output(ctx, gitCall{args: args, truncate: true})
	if err != nil {
		return nil, err
	}
	return map[string]any{"diff": string(out), "truncated": truncated}, nil
}

// diffArgs validates the input and builds git diff's arguments.
func diffArgs(in gitDiffInput) ([]string, error) {
	args := []string{"diff", "--no-color", "--no-ext-diff", "--no-textconv"}
	if in.Staged {
		args = append(args, "--cached")
	}
	args = append(args, "--end-of-options")
	if in.Commit != "" {
		if err := checkRev(in.Commit, "/commit"); err != nil {
			return nil, err
		}
		args = append(args, in.Commit)
	}
	var specs []string
	if in.Path != "" {
		spec, err := pathspec(in.Path, "/path")
		if err != nil {
			return nil, err
		}
		specs = append(specs, spec)
	}
	return append(args, paths(specs...)...), nil
}

func gitBranches(ws workspaces) tool.Tool {
	return gitTool(tool.Tool{
		Name:        "git.branches",
		Description: "List the local branches of the project's git repository with the commit each points to, and which one is checked out.",
		Input:       mustJSON(object(withProject(map[string]prop{}), "project_id")),
		Output:      output(map[string]prop{"current": typ("string"), "branches": typ("array")}),
		Run: gitBody(ws, func(ctx context.Context, r repo, _ project) (any, error) {
			out, err := r.run(ctx, "branch", "--list", "--no-color", "--format=%(HEAD)%1f%(refname:short)%1f%(objectname)")
			if err != nil {
				return nil, err
			}
			current, branches := parseBranches(out)
			return map[string]any{"current": current, "branches": branches}, nil
		}),
	})
}

type gitAddInput struct {
	project
	Paths []string `json:"paths"`
}

func gitAdd(ws workspaces) tool.Tool {
	return gitTool(tool.Tool{
		Name: "git.add",
		Description: "Stage files for the next commit: new and changed files are added, deleted ones removed. " +
			"A directory stages everything under it ('.' the whole workspace); ignored and secret files are never staged.",
		Input: mustJSON(object(withProject(map[string]prop{
			"paths": {"type": "array", "minItems": 1, "maxItems": 1000, "description": "The files or directories to stage.",
				"items": pathProp("A file or directory.")},
		}), "project_id", "paths")),
		Output: output(map[string]prop{"paths": typ("array")}),
		Run:    gitBody(ws, runAdd),
	}, tool.PermFSWrite)
}

func runAdd(ctx context.Context, r repo, in gitAddInput) (any, error) {
	specs := make([]string, len(in.Paths))
	for i, p := range in.Paths {
		spec, err := pathspec(p, tool.Pointer("paths", strconv.Itoa(i)))
		if err != nil {
			return nil, err
		}
		specs[i] = spec
	}
	if _, err := r.run(ctx, append([]string{"add"}, paths(specs...)...)...); err != nil {
		return nil, err
	}
	staged := make([]string, len(specs))
	for i, s := range specs {
		staged[i] = strings.TrimPrefix(s, literal)
	}
	return map[string]any{"paths": staged}, nil
}

type gitCommitInput struct {
	project
	Message     string `json:"message"`
	AuthorName  string `json:"author_name"`
	AuthorEmail string `json:"author_email"`
}

func gitCommit(ws workspaces) tool.Tool {
	return gitTool(tool.Tool{
		Name:        "git.commit",
		Description: "Commit what is staged (see git.add) with a message. Fails when nothing is staged. Returns the new commit's hash.",
		Input: mustJSON(object(withProject(map[string]prop{
			"message":      withPattern(str("The commit message: a short subject line, optionally a blank line and a body.", 1, 65536), `\S`),
			"author_name":  withPattern(str("The author's name (default GatheRing).", 1, 200), `^[^<>\x00-\x1f]+$`),
			"author_email": withPattern(str("The author's email address.", 3, 254), `^[^<>\s@]+@[^<>\s@]+$`),
		}), "project_id", "message")),
		Output: output(map[string]prop{"commit": typ("string")}),
		Run:    gitBody(ws, runCommit),
	}, tool.PermFSWrite)
}

func withPattern(p prop, pattern string) prop {
	p["pattern"] = pattern
	return p
}

func runCommit(ctx context.Context, r repo, in gitCommitInput) (any, error) {
	res, err := r.exec(ctx, gitCall{args: []string{"diff", "--cached", "--quiet", "--no-ext-diff"}})
	switch {
	case err != nil:
		return nil, err
	case res.exitCode == 0:
		return nil, gathering.Errorf(gathering.ECONFLICT, "Nothing is staged to commit; stage changes with git.add first.")
	case res.exitCode != 1:
		return nil, r.failed("diff", res)
	}
	env := []string{
		"GIT_AUTHOR_NAME=" + cmp.Or(in.AuthorName, defaultName), "GIT_AUTHOR_EMAIL=" + cmp.Or(in.AuthorEmail, defaultEmail),
		"GIT_COMMITTER_NAME=" + defaultName, "GIT_COMMITTER_EMAIL=" + defaultEmail,
	}
	call := gitCall{args: []string{"commit", "--quiet", "--no-verify", "--file=-"}, env: env, stdin: strings.NewReader(in.Message)}
	if _, _, err := r.output(ctx, call); err != nil {
		return nil, err
	}
	out, err := r.run(ctx, "rev-parse", "--verify", "HEAD")
	if err != nil {
		return nil, err
	}
	return map[string]any{"commit": strings.TrimSpace(string(out))}, nil
}
