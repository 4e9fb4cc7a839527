package workspace

import (
	"context"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/gitrepo"
)

// isGitRepo reports whether root has a .git directory of its own (not a
// file pointing elsewhere, nor a symbolic link).
func isGitRepo(root string) bool {
	_, err := gitrepo.Open(root)
	return err == nil
}

// gitStatus returns the status word of every changed or untracked file of
// the repository at root, by root-relative path: the working tree's state
// wins over the index's when both are set. A failure of git itself is
// EINTERNAL, as it is no fault of the caller's.
func gitStatus(ctx context.Context, root string) (map[string]string, error) {
	r, err := gitrepo.Open(root)
	if err != nil {
		return nil, err
	}
	st, err := r.Status(ctx)
	if gathering.ErrorCode(err) == gathering.EINVALID {
		return nil, &gathering.Error{Code: gathering.EINTERNAL, Message: "git status failed.", Err: err}
	}
	if err != nil {
		return nil, err
	}
	return statusWords(st.Entries), nil
}

// statusWords maps each entry's path to its working-tree state, or its
// index state when the working tree's is unmodified.
func statusWords(entries []gitrepo.StatusEntry) map[string]string {
	words := make(map[string]string, len(entries))
	for _, e := range entries {
		w := e.Worktree
		if w == "unmodified" {
			w = e.Index
		}
		words[e.Path] = w
	}
	return words
}
