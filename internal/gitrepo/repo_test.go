package gitrepo

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newRepo returns a fresh repository made by Init in a temporary directory.
func newRepo(t *testing.T) Repo {
	t.Helper()
	r, err := Init(t.Context(), t.TempDir())
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	return r
}

// write writes a file under the repository's root, creating directories.
func write(t *testing.T, r Repo, rel, content string) {
	t.Helper()
	p := filepath.Join(r.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// git runs git in the repository with a clean configuration.
func git(t *testing.T, r Repo, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.root, "-c", "user.name=T", "-c", "user.email=t@example.com"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
}

// commit stages paths and commits them as author name.
func commit(t *testing.T, r Repo, msg, name string, paths ...string) Commit {
	t.Helper()
	if _, err := r.Add(t.Context(), paths); err != nil {
		t.Fatalf("Add(%v): %v", paths, err)
	}
	c, err := r.Commit(t.Context(), CommitOptions{Message: msg, AuthorName: name, AuthorEmail: strings.ToLower(name) + "@example.com"})
	if err != nil {
		t.Fatalf("Commit(%q): %v", msg, err)
	}
	return c
}

// states returns "index/worktree" by path.
func states(t *testing.T, r Repo) map[string]string {
	t.Helper()
	st, err := r.Status(t.Context())
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	m := map[string]string{}
	for _, e := range st.Entries {
		m[e.Path] = e.Index + "/" + e.Worktree
	}
	return m
}

// wantField fails the test unless err has code and a field named field.
func wantField(t *testing.T, what string, err error, code, field string) {
	t.Helper()
	if gathering.ErrorCode(err) != code {
		t.Errorf("%s: error %v, want code %q", what, err, code)
		return
	}
	if fs := gathering.ErrorFields(err); len(fs) != 1 || fs[0].Field != field || fs[0].Message == "" {
		t.Errorf("%s: fields %+v, want %q", what, fs, field)
	}
}

func TestOpenAndInit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Open(dir); gathering.ErrorCode(err) != gathering.EINVALID || !strings.Contains(gathering.ErrorMessage(err), "not a git repository") {
		t.Fatalf("Open without .git: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".git"), []byte("gitdir: /elsewhere"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); gathering.ErrorCode(err) != gathering.EINVALID {
		t.Fatalf("Open of a gitfile: %v", err)
	}
	if _, err := Init(t.Context(), dir); gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Fatalf("Init over a gitfile: %v", err)
	}
	r := newRepo(t)
	if _, err := Open(r.root); err != nil {
		t.Fatalf("Open after Init: %v", err)
	}
	if _, err := Init(t.Context(), r.root); gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Fatalf("Init twice: %v", err)
	}
	if _, err := os.Stat(filepath.Join(r.root, ".git", "hooks")); !os.IsNotExist(err) {
		t.Fatalf("Init copied templates: %v", err)
	}
	st, err := r.Status(t.Context())
	if err != nil || st.Branch != "main" || len(st.Entries) != 0 {
		t.Fatalf("Status of a new repository = %+v, %v", st, err)
	}
	for _, f := range []func() (int, error){
		func() (int, error) { c, err := r.Log(t.Context(), LogOptions{}); return len(c), err },
		func() (int, error) { c, err := r.Graph(t.Context(), 0); return len(c), err },
	} {
		if n, err := f(); n != 0 || err != nil {
			t.Fatalf("history of a new repository: %d, %v", n, err)
		}
	}
}

func TestStageUnstageCommit(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	ctx := t.Context()
	write(t, r, "a.txt", "a\n")
	write(t, r, "dir/b.txt", "b\n")
	write(t, r, ".env", "TOKEN=hunter2")
	write(t, r, "conf/id_rsa", "PRIVATE hunter2")
	if got := states(t, r); len(got) != 2 || got["a.txt"] != "untracked/untracked" || got["dir/b.txt"] != "untracked/untracked" {
		t.Fatalf("Status shows %v", got)
	}
	staged, err := r.Add(ctx, []string{".", "./dir/"})
	if err != nil || !slices.Equal(staged, []string{".", "dir"}) {
		t.Fatalf("Add = %v, %v", staged, err)
	}
	if got := states(t, r); got["a.txt"] != "added/unmodified" || got["dir/b.txt"] != "added/unmodified" || len(got) != 2 {
		t.Fatalf("Status after Add: %v", got)
	}
	// Before the first commit, Unstage takes a file out of the index.
	if _, err := r.Unstage(ctx, []string{"dir"}); err != nil {
		t.Fatalf("Unstage before the first commit: %v", err)
	}
	if got := states(t, r); got["a.txt"] != "added/unmodified" || got["dir/b.txt"] != "untracked/untracked" {
		t.Fatalf("Status after Unstage: %v", got)
	}
	c, err := r.Commit(ctx, CommitOptions{Message: "Add a\n\nBody.", AuthorName: "Ada Lovelace", AuthorEmail: "ada@example.com"})
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(c.Commit) || c.Subject != "Add a" ||
		c.AuthorName != "Ada Lovelace" || c.AuthorEmail != "ada@example.com" || c.Date == "" {
		t.Fatalf("Commit = %+v, %v", c, err)
	}
	if _, err := r.Commit(ctx, CommitOptions{Message: "again"}); gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Fatalf("Commit with nothing staged: %v", err)
	}
	// After it, Unstage puts the committed content back in the index.
	write(t, r, "a.txt", "a2\n")
	if _, err := r.Add(ctx, []string{"a.txt"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Unstage(ctx, []string{"a.txt", "never-staged.txt"}); err != nil {
		t.Fatalf("Unstage: %v", err)
	}
	if got := states(t, r); got["a.txt"] != "unmodified/modified" {
		t.Fatalf("Status after Unstage of a change: %v", got)
	}
	out, err := r.Diff(ctx, DiffOptions{Commit: "HEAD", Show: true})
	if err != nil || !strings.Contains(out.Diff, "+a\n") || strings.Contains(out.Diff, "b.txt") || strings.Contains(out.Diff, "hunter2") {
		t.Fatalf("Diff of the root commit = %+v, %v", out, err)
	}
}

func TestCommitDefaultsAndValidation(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	write(t, r, "a.txt", "a")
	if _, err := r.Add(t.Context(), []string{"a.txt"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		o     CommitOptions
		field string
	}{
		{CommitOptions{Message: " \n\t"}, "/message"},
		{CommitOptions{Message: strings.Repeat("é", maxMessage+1)}, "/message"},
		{CommitOptions{Message: "m", AuthorName: "Eve <eve@x>"}, "/author_name"},
		{CommitOptions{Message: "m", AuthorName: "Eve\nMallory"}, "/author_name"},
		{CommitOptions{Message: "m", AuthorEmail: "not an email"}, "/author_email"},
		{CommitOptions{Message: "m", AuthorEmail: "a@b>"}, "/author_email"},
	} {
		_, err := r.Commit(t.Context(), c.o)
		wantField(t, c.field, err, gathering.EINVALID, c.field)
	}
	got, err := r.Commit(t.Context(), CommitOptions{Message: "m"})
	if err != nil || got.AuthorName != DefaultName || got.AuthorEmail != DefaultEmail {
		t.Fatalf("Commit without an author = %+v, %v", got, err)
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	ctx := t.Context()
	write(t, r, "a.txt", "one\n")
	first := commit(t, r, "first", "Ada", "a.txt")
	write(t, r, "b.txt", "b\n")
	second := commit(t, r, "second", "Bob", "b.txt")
	git(t, r, "branch", "dev", first.Commit)
	git(t, r, "tag", "v1", first.Commit)
	write(t, r, "a.txt", "two\n")
	third := commit(t, r, "third", "Ada", "a.txt")

	hashes := func(cs []Commit) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, c.Commit)
		}
		return out
	}
	for _, c := range []struct {
		o    LogOptions
		want []string
	}{
		{LogOptions{}, []string{third.Commit, second.Commit, first.Commit}},
		{LogOptions{Limit: 2}, []string{third.Commit, second.Commit}},
		{LogOptions{Author: "ADA"}, []string{third.Commit, first.Commit}},
		{LogOptions{Author: "bob@example"}, []string{second.Commit}},
		{LogOptions{Author: "a.a"}, []string{}}, // a literal, not a pattern
		{LogOptions{Path: "a.txt"}, []string{third.Commit, first.Commit}},
		{LogOptions{Branch: "dev"}, []string{first.Commit}},
		{LogOptions{Branch: "HEAD~1", Author: "Ada"}, []string{first.Commit}},
	} {
		got, err := r.Log(ctx, c.o)
		if err != nil || !slices.Equal(hashes(got), c.want) {
			t.Errorf("Log(%+v) = %v, %v; want %v", c.o, hashes(got), err, c.want)
		}
	}

	d, err := r.Diff(ctx, DiffOptions{Commit: third.Commit, Show: true})
	if err != nil || !strings.Contains(d.Diff, "-one\n+two\n") || strings.Contains(d.Diff, "b.txt") {
		t.Fatalf("Diff of a commit = %+v, %v", d, err)
	}
	write(t, r, "a.txt", "three\n")
	write(t, r, "b.txt", "b2\n")
	d, err = r.Diff(ctx, DiffOptions{Path: "a.txt"})
	if err != nil || !strings.Contains(d.Diff, "-two\n+three\n") || strings.Contains(d.Diff, "b.txt") {
		t.Fatalf("Diff of a file = %+v, %v", d, err)
	}
	d, err = r.Diff(ctx, DiffOptions{Commit: "v1", Path: "a.txt"})
	if err != nil || !strings.Contains(d.Diff, "-one\n+three\n") {
		t.Fatalf("Diff against a tag = %+v, %v", d, err)
	}

	bs, err := r.Branches(ctx)
	want := Branches{Current: "main", Branches: []Branch{{Name: "dev", Commit: first.Commit}, {Name: "main", Commit: third.Commit, Current: true}}}
	if err != nil || !slices.Equal(bs.Branches, want.Branches) || bs.Current != "main" {
		t.Fatalf("Branches = %+v, %v", bs, err)
	}

	graph, err := r.Graph(ctx, 0)
	if err != nil || len(graph) != 3 {
		t.Fatalf("Graph = %+v, %v", graph, err)
	}
	if g := graph[0]; g.Commit != third || !slices.Equal(g.Parents, []string{second.Commit}) || !slices.Equal(g.Refs, []string{"HEAD", "refs/heads/main"}) {
		t.Fatalf("Graph head = %+v", g)
	}
	if g := graph[2]; g.Commit.Commit != first.Commit || len(g.Parents) != 0 || !slices.Equal(slices.Sorted(slices.Values(g.Refs)), []string{"refs/heads/dev", "refs/tags/v1"}) {
		t.Fatalf("Graph root = %+v", g)
	}
	if graph, err := r.Graph(ctx, 1); err != nil || len(graph) != 1 {
		t.Fatalf("Graph(1) = %+v, %v", graph, err)
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	ctx := t.Context()
	write(t, r, "ok.txt", "ok")
	target := filepath.Join(t.TempDir(), "x")
	logErr := func(o LogOptions) error { _, err := r.Log(ctx, o); return err }
	diffErr := func(o DiffOptions) error { _, err := r.Diff(ctx, o); return err }
	addErr := func(ps ...string) error { _, err := r.Add(ctx, ps); return err }
	unstageErr := func(ps ...string) error { _, err := r.Unstage(ctx, ps); return err }
	graphErr := func(n int) error { _, err := r.Graph(ctx, n); return err }
	cases := []struct {
		err         error
		code, field string
	}{
		{diffErr(DiffOptions{Path: "--output=" + target}), gathering.EINVALID, "/path"},
		{diffErr(DiffOptions{Commit: "--output=" + target}), gathering.EINVALID, "/commit"},
		{diffErr(DiffOptions{Commit: "-p"}), gathering.EINVALID, "/commit"},
		{diffErr(DiffOptions{Commit: "HEAD..main"}), gathering.EINVALID, "/commit"},
		{diffErr(DiffOptions{Show: true}), gathering.EINVALID, "/commit"},
		{diffErr(DiffOptions{Show: true, Commit: "HEAD", Staged: true}), gathering.EINVALID, "/staged"},
		{diffErr(DiffOptions{Path: "../x"}), gathering.EFORBIDDEN, "/path"},
		{diffErr(DiffOptions{Path: ".env"}), gathering.EFORBIDDEN, "/path"},
		{logErr(LogOptions{Path: "-x"}), gathering.EINVALID, "/path"},
		{logErr(LogOptions{Path: "/etc/passwd"}), gathering.EFORBIDDEN, "/path"},
		{logErr(LogOptions{Branch: "--all"}), gathering.EINVALID, "/branch"},
		{logErr(LogOptions{Branch: "main@{1}"}), gathering.EINVALID, "/branch"},
		{logErr(LogOptions{Author: "a\x00b"}), gathering.EINVALID, "/author"},
		{logErr(LogOptions{Limit: MaxLogLimit + 1}), gathering.EINVALID, "/limit"},
		{logErr(LogOptions{Limit: -1}), gathering.EINVALID, "/limit"},
		{graphErr(MaxGraphLimit + 1), gathering.EINVALID, "/limit"},
		{addErr(), gathering.EINVALID, "/paths"},
		{addErr("ok.txt", "--output="+target), gathering.EINVALID, "/paths/1"},
		{addErr("-A"), gathering.EINVALID, "/paths/0"},
		{addErr("ok.txt", "sub/.env"), gathering.EFORBIDDEN, "/paths/1"},
		{addErr(".git/config"), gathering.EFORBIDDEN, "/paths/0"},
		{addErr("a/../../x"), gathering.EFORBIDDEN, "/paths/0"},
		{unstageErr("--hard"), gathering.EINVALID, "/paths/0"},
		{unstageErr("keys/server.pem"), gathering.EFORBIDDEN, "/paths/0"},
	}
	for i, c := range cases {
		wantField(t, "case "+strconv.Itoa(i), c.err, c.code, c.field)
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatalf("an option reached git: %v", err)
	}
	if got := states(t, r); got["ok.txt"] != "untracked/untracked" {
		t.Fatalf("a refused Add staged something: %v", got)
	}
	// Glob characters are literal: "*" is a file name, not every file.
	if err := addErr("*"); gathering.ErrorCode(err) != gathering.EINVALID {
		t.Fatalf("Add(*): %v", err)
	}
	err := diffErr(DiffOptions{Commit: "no-such-branch"})
	if gathering.ErrorCode(err) != gathering.EINVALID || strings.Contains(gathering.ErrorMessage(err), r.root) {
		t.Fatalf("Diff of an unknown revision: %v", err)
	}
}

// TestSecretsNeverShownOrStaged: a secret-named file is left out of Status,
// Add and Diff even when its directory is named, and even once tracked.
func TestSecretsNeverShownOrStaged(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	ctx := t.Context()
	secrets := []string{".env", "app/.env.local", "keys/server.PEM", "deploy/id_ed25519", "conf/credentials.json", ".ssh/config", "x/tls.key"}
	for _, s := range secrets {
		write(t, r, s, "hunter2")
	}
	write(t, r, "app/main.go", "package main\n")
	if got := states(t, r); len(got) != 1 || got["app/main.go"] == "" {
		t.Fatalf("Status shows %v", got)
	}
	if _, err := r.Add(ctx, []string{".", "app", "keys"}); err != nil {
		t.Fatal(err)
	}
	d, err := r.Diff(ctx, DiffOptions{Staged: true})
	if err != nil || strings.Contains(d.Diff, "hunter2") || !strings.Contains(d.Diff, "package main") {
		t.Fatalf("staged diff = %+v, %v", d, err)
	}
	// A secret staged behind our back (by git itself) is still never shown.
	git(t, r, "add", "--force", ".env")
	c, err := r.Commit(ctx, CommitOptions{Message: "m"})
	if err != nil {
		t.Fatal(err)
	}
	write(t, r, ".env", "hunter3")
	if got := states(t, r); len(got) != 0 {
		t.Fatalf("Status shows a tracked secret: %v", got)
	}
	for _, o := range []DiffOptions{{}, {Commit: c.Commit, Show: true}, {Commit: "HEAD"}} {
		if d, err := r.Diff(ctx, o); err != nil || strings.Contains(d.Diff, "hunter") {
			t.Fatalf("Diff(%+v) = %+v, %v", o, d, err)
		}
	}
}

func TestDiffTruncated(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	write(t, r, "big.txt", strings.Repeat(strings.Repeat("x", 99)+"\n", 15000))
	if _, err := r.Add(t.Context(), []string{"big.txt"}); err != nil {
		t.Fatal(err)
	}
	d, err := r.Diff(t.Context(), DiffOptions{Staged: true})
	if err != nil || !d.Truncated || len(d.Diff) != DiffLimit {
		t.Fatalf("Diff of 1.5 MB: %v, truncated %v, %d bytes", err, d.Truncated, len(d.Diff))
	}
}
