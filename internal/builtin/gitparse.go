package builtin

import "strings"

// statusEntry is one path of git status.
type statusEntry struct {
	Path     string `json:"path"`
	From     string `json:"from,omitempty"` // the original path of a rename or copy
	Index    string `json:"index"`          // state in the index (staged)
	Worktree string `json:"worktree"`       // state in the working tree
}

// statusWords names the status letters of git status --porcelain.
var statusWords = map[byte]string{
	' ': "unmodified", 'M': "modified", 'T': "type_changed", 'A': "added", 'D': "deleted",
	'R': "renamed", 'C': "copied", 'U': "unmerged", '?': "untracked", '!': "ignored",
}

// parseStatus reads git status --porcelain=v1 -z --branch.
func parseStatus(out []byte) (branch string, entries []statusEntry) {
	entries = []statusEntry{}
	fields := strings.Split(string(out), "\x00")
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		switch {
		case strings.HasPrefix(f, "## "):
			branch = branchName(f[3:])
		case len(f) > 3:
			e := statusEntry{Path: f[3:], Index: statusWords[f[0]], Worktree: statusWords[f[1]]}
			if (f[0] == 'R' || f[0] == 'C') && i+1 < len(fields) {
				i++
				e.From = fields[i]
			}
			entries = append(entries, e)
		}
	}
	return branch, entries
}

// branchName extracts the branch from a status header such as
// "main...origin/main [ahead 1]" or "No commits yet on main".
func branchName(h string) string {
	h = strings.TrimPrefix(h, "No commits yet on ")
	h, _, _ = strings.Cut(h, "...")
	h, _, _ = strings.Cut(h, " ")
	return h
}

// commit is one entry of git.log.
type commit struct {
	Commit      string `json:"commit"`
	AuthorName  string `json:"author_name"`
	AuthorEmail string `json:"author_email"`
	Date        string `json:"date"`
	Subject     string `json:"subject"`
}

// parseLog reads git log -z --format=logFormat.
func parseLog(out []byte) []commit {
	commits := []commit{}
	for rec := range strings.SplitSeq(string(out), "\x00") {
		f := strings.SplitN(strings.TrimPrefix(rec, "\n"), "\x1f", 5)
		if len(f) == 5 {
			commits = append(commits, commit{Commit: f[0], AuthorName: f[1], AuthorEmail: f[2], Date: f[3], Subject: f[4]})
		}
	}
	return commits
}

// branch is one entry of git.branches.
type branch struct {
	Name    string `json:"name"`
	Commit  string `json:"commit"`
	Current bool   `json:"current"`
}

// parseBranches reads git branch --format=%(HEAD)%1f%(refname:short)%1f%(objectname).
func parseBranches(out []byte) (current string, branches []branch) {
	branches = []branch{}
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\x1f")
		if len(f) != 3 {
			continue
		}
		b := branch{Name: f[1], Commit: f[2], Current: f[0] == "*"}
		if b.Current {
			current = b.Name
		}
		branches = append(branches, b)
	}
	return current, branches
}
