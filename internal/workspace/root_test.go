package workspace

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

func TestRootOwnDirectoryCreated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	root := b.root(t, 1)
	if root != filepath.Join(b.base, "1") {
		t.Fatalf("root = %q, want %q", root, filepath.Join(b.base, "1"))
	}
	info, err := os.Stat(root)
	if err != nil || !info.IsDir() || info.Mode().Perm() != 0o750 {
		t.Fatalf("own directory: %v, %v", info, err)
	}
}

func TestRootRepositoryPathServed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	repo := t.TempDir()
	writeFile(t, repo, "README.md", "hello")
	b.add(store.Project{ID: 3, Name: "repo", RepositoryPath: repo})
	if got := b.root(t, 3); got != repo {
		t.Fatalf("root = %q, want %q", got, repo)
	}
	f, err := b.svc.Read(t.Context(), "3", "README.md")
	if err != nil || f.Content != "hello" {
		t.Fatalf("Read = %+v, %v", f, err)
	}
}

func TestRootBadIDs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, id := range []string{"", "0", "-1", "+1", "01", "1.0", "abc", "1 ", "9223372036854775808", "../1"} {
		_, err := b.svc.Root(t.Context(), id)
		wantCode(t, "Root "+id, err, gathering.EINVALID)
		wantField(t, "Root "+id, err, "project_id")
	}
	_, err := b.svc.Root(t.Context(), "99")
	wantCode(t, "unknown project", err, gathering.ENOTFOUND)
}

func TestRootRefusesDangerousDirectories(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	_ = b.root(t, 2) // creates <base>/2
	cases := map[string]string{
		"/":                              gathering.EFORBIDDEN,
		wd:                               gathering.EFORBIDDEN,
		filepath.Dir(wd):                 gathering.EFORBIDDEN,
		b.base:                           gathering.EFORBIDDEN,
		filepath.Dir(b.base):             gathering.EFORBIDDEN,
		filepath.Join(b.base, "2"):       gathering.EFORBIDDEN, // another project's own directory
		filepath.Join(b.base, "missing"): gathering.ENOTFOUND,
		"relative/dir":                   gathering.EFORBIDDEN,
	}
	for dir, code := range cases {
		b.add(store.Project{ID: 5, Name: "danger", RepositoryPath: dir})
		_, err := b.svc.Root(t.Context(), "5")
		wantCode(t, "Root at "+dir, err, code)
		_, err = b.svc.Read(t.Context(), "5", "README.md")
		wantCode(t, "Read at "+dir, err, code)
	}
}

func TestRootNoBaseConfigured(t *testing.T) {
	t.Parallel()
	svc := New(&fakeProjects{projects: map[int64]store.Project{1: {ID: 1}}}, "")
	_, err := svc.Root(t.Context(), "1")
	wantCode(t, "no base", err, gathering.EINTERNAL)
}

func TestProjectsNeverSeeEachOther(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	if _, err := b.svc.Write(ctx, "1", "mine.txt", "one's", "", false); err != nil {
		t.Fatal(err)
	}
	_, err := b.svc.Read(ctx, "2", "mine.txt")
	wantCode(t, "read across", err, gathering.ENOTFOUND)
	if err := os.Symlink(b.root(t, 1), filepath.Join(b.root(t, 2), "other")); err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.Read(ctx, "2", "other/mine.txt")
	wantCode(t, "read through link", err, gathering.EFORBIDDEN)
	tree, err := b.svc.Tree(ctx, "2", 0, false)
	if err != nil || len(tree.Entries) != 0 {
		t.Fatalf("tree of 2 = %+v, %v; want nothing", tree, err)
	}
}

func TestCheckRepositoryPath(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(b.base, "repos", "app")
	writeFile(t, inside, "x.txt", "x")
	outside := t.TempDir()
	writeFile(t, outside, "file.txt", "x")
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(inside, link); err != nil {
		t.Fatal(err)
	}
	_ = b.root(t, 1)
	ok := map[string]bool{ // path → outsideBaseAllowed
		"":     false,
		inside: false,
		link:   false, // resolves inside base
	}
	for p, allowed := range ok {
		if errs := b.svc.CheckRepositoryPath(p, allowed); errs != nil {
			t.Errorf("CheckRepositoryPath(%q, %v) = %v", p, allowed, errs)
		}
	}
	if errs := b.svc.CheckRepositoryPath(outside, true); errs != nil {
		t.Errorf("outside with permission: %v", errs)
	}
	bad := map[string]bool{
		"relative/path":                         true,
		filepath.Join(outside, "missing"):       true,
		filepath.Join(outside, "file.txt"):      true,
		outside:                                 false,
		"/":                                     true,
		wd:                                      true,
		filepath.Dir(wd):                        true,
		b.base:                                  true,
		filepath.Dir(b.base):                    true,
		filepath.Join(b.base, "1"):              false,
		filepath.Join(b.base, "1", "sub", ".."): false,
	}
	for p, allowed := range bad {
		errs := b.svc.CheckRepositoryPath(p, allowed)
		if len(errs) != 1 || errs[0].Field != "repository_path" || errs[0].Message == "" {
			t.Errorf("CheckRepositoryPath(%q, %v) = %v, want one repository_path error", p, allowed, errs)
		}
	}
}
