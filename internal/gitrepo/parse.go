package gitrepo

import (
	"iter"
	"strings"
)

// Status is the checked-out branch and every changed, staged or untracked
// path, as Status returns it.
type Status struct {
	Branch  string        `json:"branch"` // "HEAD" when HEAD is detached
	Entries []StatusEntry `json:"entries"`
}

// StatusEntry is one path of a Status. Index and Worktree are one of
// unmodified, modified, type_changed, added, deleted, renamed, copied,
// unmerged or untracked.
type StatusEntry struct {
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
func parseStatus(out []byte) Status {
	s := Status{Entries: []StatusEntry{}}
	fields := strings.Split(string(out), "\x00")
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		switch {
		case strings.HasPrefix(f, "## "):
			s.Branch = branchName(f[3:])
		case len(f) > 3:
			e := StatusEntry{Path: f[3:], Index: statusWords[f[0]], Worktree: statusWords[f[1]]}
			if (f[0] == 'R' || f[0] == 'C') && i+1 < len(fields) {
				i++
				e.From = fields[i]
			}
			s.Entries = append(s.Entries, e)
		}
	}
	return s
}

// branchName extracts the branch from a status header such as
// "main...origin/main [ahead 1]" or "No commits yet on main" ("HEAD" for
// "HEAD (no branch)").
func branchName(h string) string {
	h = strings.TrimPrefix(h, "No commits yet on ")
	h, _, _ = strings.Cut(h, "...")
	h, _, _ = strings.Cut(h, " ")
	return h
}

// Commit is one commit as Log and Commit return it.
type Commit struct {
	Commit      string `json:"commit"` // the full hash
	AuthorName  string `json:"author_name"`
	AuthorEmail string `json:"author_email"`
	Date        string `json:"date"` // the author date, RFC 3339
	Subject     string `json:"subject"`
}

// GraphCommit is one commit of a Graph: a Commit with its parents and the
// references pointing at it, enough to draw the history.
type GraphCommit struct {
	Commit
	Parents []string `json:"parents"` // full hashes, first parent first; [] for a root commit
	// Refs are the full names of what points here: "HEAD",
	// "refs/heads/main", "refs/tags/v1.0"; [] for none.
	Refs []string `json:"refs"`
}

// commitFormat puts one commit's fields apart with unit separators; -z ends
// each commit with a NUL. graphFormat adds the parents and the refs.
const (
	commitFormat = "%H%x1f%an%x1f%ae%x1f%aI%x1f%s"
	graphFormat  = "%H%x1f%an%x1f%ae%x1f%aI%x1f%P%x1f%D%x1f%s"
)

// parseLog reads git log -z --format=commitFormat.
func parseLog(out []byte) []Commit {
	commits := []Commit{}
	for rec := range records(out) {
		if f := strings.SplitN(rec, "\x1f", 5); len(f) == 5 {
			commits = append(commits, Commit{Commit: f[0], AuthorName: f[1], AuthorEmail: f[2], Date: f[3], Subject: f[4]})
		}
	}
	return commits
}

// parseGraph reads git log -z --decorate=full --format=graphFormat.
func parseGraph(out []byte) []GraphCommit {
	commits := []GraphCommit{}
	for rec := range records(out) {
		f := strings.SplitN(rec, "\x1f", 7)
		if len(f) != 7 {
			continue
		}
		commits = append(commits, GraphCommit{
			Commit:  Commit{Commit: f[0], AuthorName: f[1], AuthorEmail: f[2], Date: f[3], Subject: f[6]},
			Parents: append([]string{}, strings.Fields(f[4])...),
			Refs:    parseRefs(f[5]),
		})
	}
	return commits
}

// records yields the NUL-terminated records of git log -z.
func records(out []byte) iter.Seq[string] {
	return func(yield func(string) bool) {
		for rec := range strings.SplitSeq(string(out), "\x00") {
			if !yield(strings.TrimPrefix(rec, "\n")) {
				return
			}
		}
	}
}

// parseRefs reads %D with --decorate=full, such as
// "HEAD -> refs/heads/main, tag: refs/tags/v1, refs/heads/dev".
func parseRefs(d string) []string {
	refs := []string{}
	for part := range strings.SplitSeq(d, ", ") {
		part = strings.TrimPrefix(part, "tag: ")
		if head, ref, ok := strings.Cut(part, " -> "); ok {
			refs = append(refs, head, ref)
		} else if part != "" {
			refs = append(refs, part)
		}
	}
	return refs
}

// Branches is the local branches as Branches returns them.
type Branches struct {
	Current  string   `json:"current"` // the checked-out branch; "(HEAD detached at …)" when detached
	Branches []Branch `json:"branches"`
}

// Branch is one local branch.
type Branch struct {
	Name    string `json:"name"`
	Commit  string `json:"commit"` // the full hash it points to
	Current bool   `json:"current"`
}

// parseBranches reads git branch --format=%(HEAD)%1f%(refname:short)%1f%(objectname).
func parseBranches(out []byte) Branches {
	bs := Branches{Branches: []Branch{}}
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\x1f")
		if len(f) != 3 {
			continue
		}
		b := Branch{Name: f[1], Commit: f[2], Current: f[0] == "*"}
		if b.Current {
			bs.Current = b.Name
		}
		bs.Branches = append(bs.Branches, b)
	}
	return bs
}
