package gitrepo

import (
	"reflect"
	"testing"
)

func TestParseStatus(t *testing.T) {
	t.Parallel()
	out := "## main...origin/main [ahead 1]\x00 M a.txt\x00R  new.txt\x00old.txt\x00?? dir/b c.txt\x00A  d.txt\x00"
	got := parseStatus([]byte(out))
	want := Status{Branch: "main", Entries: []StatusEntry{
		{Path: "a.txt", Index: "unmodified", Worktree: "modified"},
		{Path: "new.txt", From: "old.txt", Index: "renamed", Worktree: "unmodified"},
		{Path: "dir/b c.txt", Index: "untracked", Worktree: "untracked"},
		{Path: "d.txt", Index: "added", Worktree: "unmodified"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseStatus = %+v, want %+v", got, want)
	}
	for header, branch := range map[string]string{
		"No commits yet on main": "main", "HEAD (no branch)": "HEAD", "dev": "dev", "feature/x...up/x": "feature/x",
	} {
		if got := branchName(header); got != branch {
			t.Errorf("branchName(%q) = %q, want %q", header, got, branch)
		}
	}
	if got := parseStatus(nil); got.Entries == nil || len(got.Entries) != 0 {
		t.Fatalf("parseStatus(nil) = %+v, want no entries but a list", got)
	}
}

func TestParseLogAndGraph(t *testing.T) {
	t.Parallel()
	log := "h1\x1fAda\x1fada@example.com\x1f2026-01-02T03:04:05+00:00\x1fSubject \x1f with a separator\x00\nh2\x1fBob\x1fb@x\x1fd\x1fs\x00"
	commits := parseLog([]byte(log))
	if len(commits) != 2 || commits[0].Subject != "Subject \x1f with a separator" || commits[1].Commit != "h2" || commits[0].AuthorEmail != "ada@example.com" {
		t.Fatalf("parseLog = %+v", commits)
	}
	graph := "h2\x1fA\x1fa@x\x1fd\x1fh1 h0\x1fHEAD -> refs/heads/main, tag: refs/tags/v1, refs/heads/dev\x1fmerge\x00\nh1\x1fA\x1fa@x\x1fd\x1f\x1f\x1froot\x00"
	nodes := parseGraph([]byte(graph))
	if len(nodes) != 2 {
		t.Fatalf("parseGraph = %+v", nodes)
	}
	if !reflect.DeepEqual(nodes[0].Parents, []string{"h1", "h0"}) || !reflect.DeepEqual(nodes[0].Refs, []string{"HEAD", "refs/heads/main", "refs/tags/v1", "refs/heads/dev"}) {
		t.Fatalf("parseGraph merge = %+v", nodes[0])
	}
	if nodes[1].Parents == nil || len(nodes[1].Parents) != 0 || nodes[1].Refs == nil || len(nodes[1].Refs) != 0 || nodes[1].Subject != "root" {
		t.Fatalf("parseGraph root = %+v", nodes[1])
	}
}

func TestParseBranches(t *testing.T) {
	t.Parallel()
	got := parseBranches([]byte(" \x1fdev\x1fh1\n*\x1fmain\x1fh2\nnoise\n"))
	want := Branches{Current: "main", Branches: []Branch{{Name: "dev", Commit: "h1"}, {Name: "main", Commit: "h2", Current: true}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseBranches = %+v, want %+v", got, want)
	}
}

func TestCheckRev(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"HEAD", "HEAD~1", "main^", "feature/x", "v1.2.3", "0123abcd", "HEAD~2^1"} {
		if err := checkRev(ok, "/commit"); err != nil {
			t.Errorf("checkRev(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"-x", "--output=x", "HEAD..main", "HEAD:file", "main@{1}", "a b", ".hidden", "", "HEAD^{tree}"} {
		if err := checkRev(bad, "/commit"); err == nil {
			t.Errorf("checkRev(%q) accepted", bad)
		}
	}
}
