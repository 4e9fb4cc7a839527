package fsguard

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
)

// escapingDir returns a workspace with "file-link" pointing to a file outside
// it and "dir-link" pointing to a directory outside it, plus that directory.
func escapingDir(t *testing.T) (*Dir, string) {
	t.Helper()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, base := newDir(t, map[string]string{".env": "TOKEN=1"})
	links := map[string]string{
		"file-link":  filepath.Join(outside, "secret.txt"),
		"dir-link":   outside,
		"notes.txt":  filepath.Join(base, ".env"),
		"rel-escape": "../" + filepath.Base(outside),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(base, name)); err != nil {
			t.Fatal(err)
		}
	}
	return d, outside
}

func TestSymlinksOutsideRefused(t *testing.T) {
	t.Parallel()
	d, outside := escapingDir(t)
	for _, p := range []string{"file-link", "dir-link/secret.txt", "notes.txt", "rel-escape/secret.txt"} {
		_, err := d.Read(p)
		wantCode(t, "Read "+p, err, gathering.EFORBIDDEN)
		wantCode(t, "Write "+p, d.Write(p, []byte("overwritten")), gathering.EFORBIDDEN)
	}
	wantCode(t, "Write through dir link", d.Write("dir-link/new.txt", []byte("x")), gathering.EFORBIDDEN)
	for _, p := range []string{"dir-link", "rel-escape"} {
		_, err := d.List(p)
		wantCode(t, "List "+p, err, gathering.EFORBIDDEN)
		_, err = d.Search(p, "", "", 0)
		wantCode(t, "Search "+p, err, gathering.EFORBIDDEN)
	}
	wantCode(t, "Move through link", d.Move("dir-link/secret.txt", "stolen.txt"), gathering.EFORBIDDEN)
	wantCode(t, "Move into link", d.Move("notes.txt", "dir-link/x"), gathering.EFORBIDDEN)
	got, err := os.ReadFile(filepath.Join(outside, "secret.txt"))
	if err != nil || string(got) != "outside" {
		t.Fatalf("outside file changed: %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(outside, "new.txt")); !os.IsNotExist(err) {
		t.Fatalf("a file was created outside the root: %v", err)
	}
}

// The os.Root underneath refuses escaping links on its own, should the
// symlink check ever be bypassed (for instance by a link swapped in between
// the check and the operation).
func TestRootItselfRefusesEscapes(t *testing.T) {
	t.Parallel()
	d, _ := escapingDir(t)
	for _, p := range []string{"file-link", "dir-link/secret.txt", "rel-escape/secret.txt"} {
		if f, err := d.root.Open(p); err == nil {
			_ = f.Close()
			t.Errorf("os.Root opened %q", p)
		} else {
			wantCode(t, "fsError "+p, fsError(p, err), gathering.EFORBIDDEN)
		}
	}
}

func TestSearchSkipsSymlinks(t *testing.T) {
	t.Parallel()
	d, _ := escapingDir(t)
	got, err := d.Search("", "", "", 0)
	if err != nil || len(got) != 0 {
		t.Fatalf("Search = %+v, %v; want nothing", got, err)
	}
}
