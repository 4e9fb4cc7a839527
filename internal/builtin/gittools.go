package builtin

import (
	"context"
	"fmt"

	"github.com/gathering/gathering/internal/fsguard"
	"github.com/gathering/gathering/internal/gitrepo"
	"github.com/gathering/gathering/internal/tool"
)

// diffLimit is the size at which git.diff cuts its text.
const diffLimit = gitrepo.DiffLimit

// gitTools returns the git skill.
func gitTools(ws workspaces) []tool.Tool {
	return []tool.Tool{gitStatus(ws), gitLog(ws), gitDiff(ws), gitBranches(ws), gitAdd(ws), gitCommit(ws)}
}

// gitTool fills in what every git tool shares: the git permission (plus
// extra) and the timeout.
func gitTool(t tool.Tool, extra ...tool.Permission) tool.Tool {
	t.Permissions = append([]tool.Permission{tool.PermGit}, extra...)
	t.Timeout = gitrepo.Timeout
	return t
}

// withRepo opens projectID's workspace and runs f on its repository.
func (w workspaces) withRepo(ctx context.Context, projectID string, f func(gitrepo.Repo) (any, error)) (any, error) {
	return w.with(ctx, projectID, func(root string, _ *fsguard.Dir) (any, error) {
		r, err := gitrepo.Open(root)
		if err != nil {
			return nil, err
		}
		return f(r)
	})
}

// gitBody adapts a repository operation to a tool body.
func gitBody[In interface{ projectID() string }](ws workspaces, f func(context.Context, gitrepo.Repo, In) (any, error)) tool.RunFunc {
	return body(func(ctx context.Context, in In) (any, error) {
		return ws.withRepo(ctx, in.projectID(), func(r gitrepo.Repo) (any, error) { return f(ctx, r, in) })
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
		Run: gitBody(ws, func(ctx context.Context, r gitrepo.Repo, _ project) (any, error) {
			return r.Status(ctx)
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
			"limit": integer("How many commits to return (default 20).", 1, gitrepo.MaxLogLimit),
			"path":  pathProp("Only commits that changed this file or directory."),
		}), "project_id")),
		Output: output(map[string]prop{"commits": typ("array")}),
		Run:    gitBody(ws, runLog),
	})
}

func runLog(ctx context.Context, r gitrepo.Repo, in gitLogInput) (any, error) {
	commits, err := r.Log(ctx, gitrepo.LogOptions{Path: in.Path, Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	return map[string]any{"commits": commits}, nil
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
			fmt.Sprintf("The text is cut at %d MiB, with truncated set.", diffLimit>>20),
		Input: mustJSON(object(withProject(map[string]prop{
			"commit": str("A commit hash, branch or tag to compare with, such as HEAD~1 or main.", 1, 200),
			"path":   pathProp("Only changes to this file or directory."),
			"staged": boolean("Compare the index (what the next commit will hold) instead of the working tree."),
		}), "project_id")),
		Output: output(map[string]prop{"diff": typ("string"), "truncated": typ("boolean")}),
		Run:    gitBody(ws, runDiff),
	})
}

func runDiff(ctx context.Context, r gitrepo.Repo, in gitDiffInput) (any, error) {
	return r.Diff(ctx, gitrepo.DiffOptions{Commit: in.Commit, Path: in.Path, Staged: in.Staged})
}

func gitBranches(ws workspaces) tool.Tool {
	return gitTool(tool.Tool{
		Name:        "git.branches",
		Description: "List the local branches of the project's git repository with the commit each points to, and which one is checked out.",
		Input:       mustJSON(object(withProject(map[string]prop{}), "project_id")),
		Output:      output(map[string]prop{"current": typ("string"), "branches": typ("array")}),
		Run: gitBody(ws, func(ctx context.Context, r gitrepo.Repo, _ project) (any, error) {
			return r.Branches(ctx)
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

func runAdd(ctx context.Context, r gitrepo.Repo, in gitAddInput) (any, error) {
	staged, err := r.Add(ctx, in.Paths)
	if err != nil {
		return nil, err
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

func runCommit(ctx context.Context, r gitrepo.Repo, in gitCommitInput) (any, error) {
	c, err := r.Commit(ctx, gitrepo.CommitOptions{Message: in.Message, AuthorName: in.AuthorName, AuthorEmail: in.AuthorEmail})
	if err != nil {
		return nil, err
	}
	return map[string]any{"commit": c.Commit}, nil
}
