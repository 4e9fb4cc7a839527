package workspace

import (
	"context"
	"strings"

	"github.com/gathering/gathering/internal/fsguard"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/gitrepo"
)

// The git operations of a project's repository, through gitrepo (the same
// code as the git tools). A root without a .git directory of its own is
// EINVALID ("not a git repository; initialise it first") until GitInit.
// Paths are refused as the file operations refuse them (EFORBIDDEN, "The
// path is not allowed in this project.", field "path"); other validation
// errors are gitrepo's with the field named without its leading slash:
// "commit", "branch", "author", "limit", "staged", "paths", "paths/N",
// "message", "author_name", "author_email". Push and pull are not offered.

// GitStatus returns the checked-out branch and every changed, staged or
// untracked file of project projectID's repository.
func (s *Service) GitStatus(ctx context.Context, projectID string) (gitrepo.Status, error) {
	return withRepo(ctx, s, projectID, func(r gitrepo.Repo) (gitrepo.Status, error) {
		return r.Status(ctx)
	})
}

// GitLog returns the commits selected by o, newest first.
func (s *Service) GitLog(ctx context.Context, projectID string, o gitrepo.LogOptions) ([]gitrepo.Commit, error) {
	var err error
	if o.Path, err = optionalPath(o.Path); err != nil {
		return nil, err
	}
	return withRepo(ctx, s, projectID, func(r gitrepo.Repo) ([]gitrepo.Commit, error) {
		return r.Log(ctx, o)
	})
}

// GitFileHistory returns the commits that changed file or directory p,
// newest first, at most limit of them (0: gitrepo.DefaultLogLimit).
func (s *Service) GitFileHistory(ctx context.Context, projectID, p string, limit int) ([]gitrepo.Commit, error) {
	clean, err := cleanPath(p)
	if err != nil {
		return nil, err
	}
	return s.GitLog(ctx, projectID, gitrepo.LogOptions{Path: clean, Limit: limit})
}

// GitDiff returns the unified diff o selects (see gitrepo.DiffOptions):
// unstaged changes by default, the changes a commit made with Show.
func (s *Service) GitDiff(ctx context.Context, projectID string, o gitrepo.DiffOptions) (gitrepo.Diff, error) {
	var err error
	if o.Path, err = optionalPath(o.Path); err != nil {
		return gitrepo.Diff{}, err
	}
	return withRepo(ctx, s, projectID, func(r gitrepo.Repo) (gitrepo.Diff, error) {
		return r.Diff(ctx, o)
	})
}

// GitBranches returns the local branches and the checked-out one.
func (s *Service) GitBranches(ctx context.Context, projectID string) (gitrepo.Branches, error) {
	return withRepo(ctx, s, projectID, func(r gitrepo.Repo) (gitrepo.Branches, error) {
		return r.Branches(ctx)
	})
}

// GitGraph returns up to limit commits (0: gitrepo.DefaultGraphLimit) of
// every branch and tag with their parents and references, children first.
func (s *Service) GitGraph(ctx context.Context, projectID string, limit int) ([]gitrepo.GraphCommit, error) {
	return withRepo(ctx, s, projectID, func(r gitrepo.Repo) ([]gitrepo.GraphCommit, error) {
		return r.Graph(ctx, limit)
	})
}

// GitStage stages paths (files or directories, "." for everything) and
// returns them cleaned; ignored and secret-named files are never staged.
func (s *Service) GitStage(ctx context.Context, projectID string, paths []string) ([]string, error) {
	clean, err := cleanPaths(paths)
	if err != nil {
		return nil, err
	}
	return withRepo(ctx, s, projectID, func(r gitrepo.Repo) ([]string, error) {
		return r.Add(ctx, clean)
	})
}

// GitUnstage takes paths out of the index (back to the last commit) and
// returns them cleaned; the files themselves are untouched.
func (s *Service) GitUnstage(ctx context.Context, projectID string, paths []string) ([]string, error) {
	clean, err := cleanPaths(paths)
	if err != nil {
		return nil, err
	}
	return withRepo(ctx, s, projectID, func(r gitrepo.Repo) ([]string, error) {
		return r.Unstage(ctx, clean)
	})
}

// GitCommit commits what is staged with o's message and author (the caller
// passes the authenticated user's name and email) and returns the new
// commit. ECONFLICT when nothing is staged.
func (s *Service) GitCommit(ctx context.Context, projectID string, o gitrepo.CommitOptions) (gitrepo.Commit, error) {
	return withRepo(ctx, s, projectID, func(r gitrepo.Repo) (gitrepo.Commit, error) {
		return r.Commit(ctx, o)
	})
}

// GitInit makes project projectID's directory an empty repository on
// branch main, leaving its files untracked. ECONFLICT when it already has a
// .git of any kind.
func (s *Service) GitInit(ctx context.Context, projectID string) error {
	_, err := withDir(ctx, s, projectID, func(root string, _ *fsguard.Dir) (struct{}, error) {
		_, err := gitrepo.Init(ctx, root)
		return struct{}{}, err
	})
	return err
}

// withRepo opens project projectID's repository for f and renames the
// fields of f's errors.
func withRepo[T any](ctx context.Context, s *Service, projectID string, f func(gitrepo.Repo) (T, error)) (T, error) {
	return withDir(ctx, s, projectID, func(root string, _ *fsguard.Dir) (T, error) {
		r, err := gitrepo.Open(root)
		if err != nil {
			var zero T
			return zero, err
		}
		v, err := f(r)
		return v, fieldNames(err)
	})
}

// optionalPath cleans p like cleanPath, leaving "" as it is.
func optionalPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	return cleanPath(p)
}

// cleanPaths cleans every path like cleanPath.
func cleanPaths(paths []string) ([]string, error) {
	clean := make([]string, len(paths))
	for i, p := range paths {
		var err error
		if clean[i], err = cleanPath(p); err != nil {
			return nil, err
		}
	}
	return clean, nil
}

// fieldNames drops the leading slash of gitrepo's field names (JSON
// pointers into a tool's input) so they read like the rest of the API's.
func fieldNames(err error) error {
	return gathering.RenameFields(err, func(f string) string { return strings.TrimPrefix(f, "/") })
}
