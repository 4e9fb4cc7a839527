package gitrepo

import (
	"cmp"
	"context"
	"strings"

	"github.com/gathering/gathering/internal/gathering"
)

// Who commits when no author is given, and always the committer.
const (
	DefaultName  = "GatheRing"
	DefaultEmail = "gathering@localhost"
	maxMessage   = 65536 // characters of a commit message
)

// Add stages paths (files or directories; "." is the whole workspace) for
// the next commit: new and changed files are added, deleted ones removed.
// Ignored and secret-named files are never staged. It returns the paths
// cleaned. Fields: "/paths" when empty, "/paths/N" for a refused path.
func (r Repo) Add(ctx context.Context, ps []string) ([]string, error) {
	specs, err := pathspecs(ps)
	if err != nil {
		return nil, err
	}
	if _, err := r.run(ctx, append([]string{"add"}, paths(specs...)...)...); err != nil {
		return nil, err
	}
	return unliteral(specs), nil
}

// Unstage takes paths (files or directories) out of the index, back to what
// the last commit holds (out of the index altogether before the first
// commit); the working tree is untouched. A path with nothing staged is no
// error. It returns the paths cleaned, with Add's fields.
//
// It runs git reset, not git restore --staged: the two do the same to the
// index, and reset also works before the first commit.
func (r Repo) Unstage(ctx context.Context, ps []string) ([]string, error) {
	specs, err := pathspecs(ps)
	if err != nil {
		return nil, err
	}
	if _, err := r.run(ctx, append([]string{"reset", "--quiet", "--"}, specs...)...); err != nil {
		return nil, err
	}
	return unliteral(specs), nil
}

// CommitOptions is what Commit records.
type CommitOptions struct {
	// Message is a short subject line, optionally a blank line and a body:
	// not blank, at most 65536 characters (field "/message").
	Message string
	// AuthorName (no '<', '>' or control characters, at most 200
	// characters; "": DefaultName) and AuthorEmail ("": DefaultEmail) name
	// the author, fields "/author_name" and "/author_email". The committer
	// is always DefaultName.
	AuthorName, AuthorEmail string
}

// Commit records what is staged and returns the new commit. ECONFLICT when
// nothing is staged. No hook runs and nothing is signed.
func (r Repo) Commit(ctx context.Context, o CommitOptions) (Commit, error) {
	if err := checkCommit(o); err != nil {
		return Commit{}, err
	}
	if err := r.checkStaged(ctx); err != nil {
		return Commit{}, err
	}
	env := []string{
		"GIT_AUTHOR_NAME=" + cmp.Or(o.AuthorName, DefaultName), "GIT_AUTHOR_EMAIL=" + cmp.Or(o.AuthorEmail, DefaultEmail),
		"GIT_COMMITTER_NAME=" + DefaultName, "GIT_COMMITTER_EMAIL=" + DefaultEmail,
	}
	c := call{args: []string{"commit", "--quiet", "--no-verify", "--file=-"}, env: env, stdin: strings.NewReader(o.Message)}
	if _, _, err := r.output(ctx, c); err != nil {
		return Commit{}, err
	}
	out, err := r.run(ctx, "log", "-z", "--format="+commitFormat, "-n", "1", "--end-of-options", "HEAD", "--")
	if err != nil {
		return Commit{}, err
	}
	commits := parseLog(out)
	if len(commits) != 1 {
		return Commit{}, gathering.Errorf(gathering.EINTERNAL, "The new commit cannot be read back.")
	}
	return commits[0], nil
}

// checkStaged fails with ECONFLICT when the index holds no change.
func (r Repo) checkStaged(ctx context.Context) error {
	res, err := r.exec(ctx, call{args: []string{"diff", "--cached", "--quiet", "--no-ext-diff"}})
	switch {
	case err != nil:
		return err
	case res.exitCode == 0:
		return gathering.Errorf(gathering.ECONFLICT, "Nothing is staged to commit; stage changes first.")
	case res.exitCode != 1:
		return r.failed("diff", res)
	}
	return nil
}
