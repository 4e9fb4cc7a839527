package gitrepo

import (
	"context"
	"strconv"

	"github.com/gathering/gathering/internal/gathering"
)

// Limits and defaults of Log and Graph.
const (
	DefaultLogLimit   = 20
	MaxLogLimit       = 200
	DefaultGraphLimit = 100
	MaxGraphLimit     = 1000
)

// Status returns the checked-out branch and every changed, staged or
// untracked file (untracked directories listed file by file), without
// secret-named files and what .gitignore ignores.
func (r Repo) Status(ctx context.Context) (Status, error) {
	out, err := r.run(ctx, append([]string{"status", "--porcelain=v1", "-z", "--branch", "--untracked-files=all"}, paths()...)...)
	if err != nil {
		return Status{}, err
	}
	return parseStatus(out), nil
}

// LogOptions selects the commits of Log.
type LogOptions struct {
	Branch string // a revision to start from (field "/branch"); "": HEAD
	// Author keeps the commits whose author name or email contains it,
	// ignoring case (field "/author").
	Author string
	Path   string // only commits that changed this file or directory: its history (field "/path")
	Limit  int    // 1 to MaxLogLimit; 0: DefaultLogLimit (field "/limit")
}

// Log returns commits newest first; a repository without commits has none.
func (r Repo) Log(ctx context.Context, o LogOptions) ([]Commit, error) {
	args, err := logArgs(o)
	if err != nil {
		return nil, err
	}
	out, err := r.history(ctx, args)
	if err != nil {
		return nil, err
	}
	return parseLog(out), nil
}

// logArgs validates o and builds git log's arguments.
func logArgs(o LogOptions) ([]string, error) {
	limit, err := checkLimit(o.Limit, DefaultLogLimit, MaxLogLimit)
	if err != nil {
		return nil, err
	}
	args := []string{"log", "-z", "--format=" + commitFormat, "-n", strconv.Itoa(limit)}
	if o.Author != "" {
		if err := checkAuthor(o.Author); err != nil {
			return nil, err
		}
		args = append(args, "--fixed-strings", "--regexp-ignore-case", "--author="+o.Author)
	}
	args = append(args, "--end-of-options")
	if o.Branch != "" {
		if err := checkRev(o.Branch, "/branch"); err != nil {
			return nil, err
		}
		args = append(args, o.Branch)
	}
	specs, err := optionalPathspec(o.Path)
	if err != nil {
		return nil, err
	}
	return append(append(args, "--"), specs...), nil
}

// history runs a git log, giving no output instead of an error when the
// repository has no commits yet.
func (r Repo) history(ctx context.Context, args []string) ([]byte, error) {
	out, err := r.run(ctx, args...)
	if err != nil && !r.hasCommits(ctx) {
		return nil, nil
	}
	return out, err
}

// hasCommits reports whether HEAD names a commit.
func (r Repo) hasCommits(ctx context.Context) bool {
	_, err := r.run(ctx, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
	return err == nil
}

// Graph returns up to limit commits (1 to MaxGraphLimit; 0:
// DefaultGraphLimit) reachable from HEAD, any local branch or any tag, in
// topological order (children before their parents), each with its parents
// and references: what a UI needs to draw the history.
func (r Repo) Graph(ctx context.Context, limit int) ([]GraphCommit, error) {
	limit, err := checkLimit(limit, DefaultGraphLimit, MaxGraphLimit)
	if err != nil {
		return nil, err
	}
	out, err := r.history(ctx, []string{"log", "-z", "--topo-order", "--decorate=full", "--format=" + graphFormat,
		"-n", strconv.Itoa(limit), "--branches", "--tags", "--end-of-options", "HEAD", "--"})
	if err != nil {
		return nil, err
	}
	return parseGraph(out), nil
}

// DiffOptions selects what Diff compares.
type DiffOptions struct {
	// Commit is a commit, branch or tag (field "/commit"). Without Show,
	// the working tree (or with Staged the index) is compared with it.
	Commit string
	// Show gives the changes Commit itself made, against its first parent
	// (against nothing for a root commit), like git show. It needs Commit
	// and excludes Staged.
	Show bool
	Path string // only changes to this file or directory (field "/path")
	// Staged compares the index (what the next commit will hold) instead
	// of the working tree: with HEAD unless Commit is given.
	Staged bool
}

// Diff is a unified diff as Diff returns it.
type Diff struct {
	Diff      string `json:"diff"`
	Truncated bool   `json:"truncated"` // cut at DiffLimit bytes
}

// Diff returns changes as a unified diff: by default the working tree
// against the index (unstaged changes); see DiffOptions for the others.
// Secret-named files are never part of it.
func (r Repo) Diff(ctx context.Context, o DiffOptions) (Diff, error) {
	args, err := diffArgs(o)
	if err != nil {
		return Diff{}, err
	}
	out, truncated, err := r.output(ctx, call{args: args, truncate: true})
	if err != nil {
		return Diff{}, err
	}
	return Diff{Diff: string(out), Truncated: truncated}, nil
}

// diffArgs validates o and builds the git diff (or, with Show, git show)
// arguments.
func diffArgs(o DiffOptions) ([]string, error) {
	if err := checkDiffOptions(o); err != nil {
		return nil, err
	}
	specs, err := optionalPathspec(o.Path)
	if err != nil {
		return nil, err
	}
	args := []string{"diff", "--no-color", "--no-ext-diff", "--no-textconv"}
	if o.Show {
		args = []string{"show", "--format=", "--diff-merges=first-parent", "--no-color", "--no-ext-diff", "--no-textconv"}
	}
	if o.Staged {
		args = append(args, "--cached")
	}
	args = append(args, "--end-of-options")
	switch {
	case o.Show:
		args = append(args, o.Commit+"^{commit}")
	case o.Commit != "":
		args = append(args, o.Commit)
	}
	return append(args, paths(specs...)...), nil
}

// checkDiffOptions validates the commit of o and how Show combines.
func checkDiffOptions(o DiffOptions) error {
	switch {
	case o.Show && o.Commit == "":
		return fieldError(gathering.EINVALID, "/commit", "Name the commit whose changes to show.")
	case o.Show && o.Staged:
		return fieldError(gathering.EINVALID, "/staged", "A commit's own changes do not involve the index; leave staged out.")
	case o.Commit != "":
		return checkRev(o.Commit, "/commit")
	}
	return nil
}

// Branches returns the local branches and the checked-out one.
func (r Repo) Branches(ctx context.Context) (Branches, error) {
	out, err := r.run(ctx, "branch", "--list", "--no-color", "--format=%(HEAD)%1f%(refname:short)%1f%(objectname)")
	if err != nil {
		return Branches{}, err
	}
	return parseBranches(out), nil
}
