package workspace

import (
	"slices"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/gitrepo"
)

func TestGitWorkflow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	if _, err := b.svc.GitStatus(ctx, "1"); gathering.ErrorCode(err) != gathering.EINVALID {
		t.Fatalf("GitStatus before GitInit: %v", err)
	}
	if err := b.svc.GitInit(ctx, "1"); err != nil {
		t.Fatalf("GitInit: %v", err)
	}
	wantCode(t, "GitInit twice", b.svc.GitInit(ctx, "1"), gathering.ECONFLICT)
	if _, err := b.svc.Write(ctx, "1", "docs/hello.md", "hello\n", "", false); err != nil {
		t.Fatal(err)
	}
	staged, err := b.svc.GitStage(ctx, "1", []string{"docs/hello.md"})
	if err != nil || !slices.Equal(staged, []string{"docs/hello.md"}) {
		t.Fatalf("GitStage = %v, %v", staged, err)
	}
	st, err := b.svc.GitStatus(ctx, "1")
	if err != nil || st.Branch != "main" || len(st.Entries) != 1 || st.Entries[0].Index != "added" {
		t.Fatalf("GitStatus = %+v, %v", st, err)
	}
	c, err := b.svc.GitCommit(ctx, "1", gitrepo.CommitOptions{Message: "Add hello", AuthorName: "Ada Lovelace", AuthorEmail: "ada@example.com"})
	if err != nil || c.AuthorName != "Ada Lovelace" {
		t.Fatalf("GitCommit = %+v, %v", c, err)
	}

	log, err := b.svc.GitLog(ctx, "1", gitrepo.LogOptions{Author: "ada@example.com"})
	if err != nil || len(log) != 1 || log[0] != c || log[0].AuthorEmail != "ada@example.com" || log[0].Subject != "Add hello" {
		t.Fatalf("GitLog = %+v, %v", log, err)
	}
	if h, err := b.svc.GitFileHistory(ctx, "1", "docs/hello.md", 0); err != nil || len(h) != 1 || h[0].Commit != c.Commit {
		t.Fatalf("GitFileHistory = %+v, %v", h, err)
	}
	d, err := b.svc.GitDiff(ctx, "1", gitrepo.DiffOptions{Commit: c.Commit, Show: true})
	if err != nil || !strings.Contains(d.Diff, "+++ b/docs/hello.md") || !strings.Contains(d.Diff, "+hello\n") {
		t.Fatalf("GitDiff of the commit = %+v, %v", d, err)
	}

	if _, err := b.svc.Write(ctx, "1", "docs/hello.md", "hello, world\n", "", false); err != nil {
		t.Fatal(err)
	}
	if d, err := b.svc.GitDiff(ctx, "1", gitrepo.DiffOptions{Path: "docs/hello.md"}); err != nil || !strings.Contains(d.Diff, "+hello, world\n") {
		t.Fatalf("GitDiff of a file = %+v, %v", d, err)
	}
	if _, err := b.svc.GitStage(ctx, "1", []string{"docs"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.GitUnstage(ctx, "1", []string{"docs/hello.md"}); err != nil {
		t.Fatalf("GitUnstage: %v", err)
	}
	if st, err := b.svc.GitStatus(ctx, "1"); err != nil || len(st.Entries) != 1 || st.Entries[0].Index != "unmodified" || st.Entries[0].Worktree != "modified" {
		t.Fatalf("GitStatus after GitUnstage = %+v, %v", st, err)
	}
	bs, err := b.svc.GitBranches(ctx, "1")
	if err != nil || bs.Current != "main" || len(bs.Branches) != 1 {
		t.Fatalf("GitBranches = %+v, %v", bs, err)
	}
	g, err := b.svc.GitGraph(ctx, "1", 0)
	if err != nil || len(g) != 1 || g[0].Commit != c || !slices.Contains(g[0].Refs, "refs/heads/main") {
		t.Fatalf("GitGraph = %+v, %v", g, err)
	}
}

func TestGitRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	if err := b.svc.GitInit(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	refused := []string{"../2/x", "/etc/passwd", ".env", ".git/config", "a/%2e%2e/b", ""}
	for _, p := range refused {
		_, err := b.svc.GitStage(ctx, "1", []string{"ok.txt", p})
		want := gathering.EFORBIDDEN
		if p == "" {
			want = gathering.EINVALID
		}
		wantCode(t, "GitStage "+p, err, want)
		wantField(t, "GitStage "+p, err, "path")
		if p != "" && gathering.ErrorMessage(err) != notAllowed {
			t.Errorf("GitStage %q: message %q", p, gathering.ErrorMessage(err))
		}
	}
	_, err := b.svc.GitUnstage(ctx, "1", []string{"keys/a.pem"})
	wantCode(t, "GitUnstage of a secret", err, gathering.EFORBIDDEN)
	_, err = b.svc.GitFileHistory(ctx, "1", "../etc", 0)
	wantCode(t, "GitFileHistory outside", err, gathering.EFORBIDDEN)
	_, err = b.svc.GitDiff(ctx, "1", gitrepo.DiffOptions{Path: "/etc/passwd"})
	wantField(t, "GitDiff outside", err, "path")
	// gitrepo's own refusals name their fields without the slash.
	_, err = b.svc.GitStage(ctx, "1", []string{"ok.txt", "-A"})
	wantCode(t, "GitStage -A", err, gathering.EINVALID)
	wantField(t, "GitStage -A", err, "paths/1")
	_, err = b.svc.GitDiff(ctx, "1", gitrepo.DiffOptions{Commit: "--output=/tmp/x"})
	wantField(t, "GitDiff option", err, "commit")
	_, err = b.svc.GitLog(ctx, "1", gitrepo.LogOptions{Limit: 100000})
	wantField(t, "GitLog limit", err, "limit")
	_, err = b.svc.GitStatus(ctx, "x")
	wantField(t, "unknown project", err, "project_id")
}
