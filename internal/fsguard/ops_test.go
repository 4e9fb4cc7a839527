package fsguard

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
)

// newDir opens a fresh temporary workspace holding files (path → content).
func newDir(t *testing.T, files map[string]string) (*Dir, string) {
	t.Helper()
	base := t.TempDir()
	for p, content := range files {
		full := filepath.Join(base, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := Open(base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d, base
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if gathering.ErrorCode(err) != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, gathering.ErrorCode(err), code)
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	t.Parallel()
	_, err := Open(filepath.Join(t.TempDir(), "missing"))
	wantCode(t, "Open", err, gathering.ENOTFOUND)
}

func TestOperationsRefuseCorpus(t *testing.T) {
	t.Parallel()
	d, _ := newDir(t, map[string]string{"ok.txt": "ok"})
	for p, code := range refusedCorpus {
		if p == "" {
			continue // "" means the root for List and Search
		}
		_, err := d.Read(p)
		wantCode(t, "Read "+p, err, code)
		wantCode(t, "Write "+p, d.Write(p, []byte("x")), code)
		wantCode(t, "Delete "+p, d.Delete(p), code)
		wantCode(t, "Move from "+p, d.Move(p, "new.txt"), code)
		wantCode(t, "Move to "+p, d.Move("ok.txt", p), code)
		_, err = d.List(p)
		wantCode(t, "List "+p, err, code)
		_, err = d.Search(p, "", "", 0)
		wantCode(t, "Search "+p, err, code)
	}
}

func TestReadWriteNested(t *testing.T) {
	t.Parallel()
	d, base := newDir(t, nil)
	for _, p := range []string{"src/main.go", "docs/a/b/c.md", "notes..txt", "a.b/c"} {
		if err := d.Write(p, []byte("content of "+p)); err != nil {
			t.Fatalf("Write %q: %v", p, err)
		}
		got, err := d.Read(p)
		if err != nil || string(got) != "content of "+p {
			t.Fatalf("Read %q = %q, %v", p, got, err)
		}
		if _, err := os.Stat(filepath.Join(base, filepath.FromSlash(p))); err != nil {
			t.Fatalf("%q not on disk: %v", p, err)
		}
	}
	if err := d.Write("src/main.go", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Read("src/main.go"); string(got) != "v2" {
		t.Fatalf("overwrite read %q", got)
	}
	entries, _ := os.ReadDir(filepath.Join(base, "src"))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	d, _ := newDir(t, map[string]string{"dir/f.txt": "x"})
	_, err := d.Read("missing.txt")
	wantCode(t, "Read missing", err, gathering.ENOTFOUND)
	_, err = d.Read("dir")
	wantCode(t, "Read dir", err, gathering.EINVALID)
	_, err = d.Read(".")
	wantCode(t, "Read root", err, gathering.EINVALID)
	wantCode(t, "Write dir", d.Write("dir", []byte("x")), gathering.EINVALID)
	wantCode(t, "Write root", d.Write(".", []byte("x")), gathering.EINVALID)
	wantCode(t, "Write under file", d.Write("dir/f.txt/g", []byte("x")), gathering.EINVALID)
}

func TestSizeLimits(t *testing.T) {
	t.Parallel()
	d, base := newDir(t, nil)
	exact := bytes.Repeat([]byte("a"), MaxFileSize)
	if err := d.Write("exact.bin", exact); err != nil {
		t.Fatalf("Write of exactly MaxFileSize: %v", err)
	}
	if got, err := d.Read("exact.bin"); err != nil || len(got) != MaxFileSize {
		t.Fatalf("Read of exactly MaxFileSize: %d bytes, %v", len(got), err)
	}
	wantCode(t, "Write over", d.Write("big.bin", append(exact, 'b')), gathering.ETOOLARGE)
	if _, err := os.Stat(filepath.Join(base, "big.bin")); !os.IsNotExist(err) {
		t.Fatalf("oversized write left a file: %v", err)
	}
	// A sparse file: its size is checked before anything is read.
	if err := os.Truncate(filepath.Join(base, "exact.bin"), 1<<30); err != nil {
		t.Fatal(err)
	}
	_, err := d.Read("exact.bin")
	wantCode(t, "Read over", err, gathering.ETOOLARGE)
}

func TestList(t *testing.T) {
	t.Parallel()
	d, base := newDir(t, map[string]string{
		"b.txt": "bb", "a/x.go": "x", ".env": "SECRET=1", ".git/config": "c",
		"server.pem": "p", "Credentials.json": "{}", ".gitignore": "*.o", ".gathering-tmp-1": "",
	})
	if err := os.Symlink(filepath.Join(base, "b.txt"), filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	entries, err := d.List("")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	if want := []string{".gitignore", "a", "b.txt", "link"}; !slices.Equal(names, want) {
		t.Fatalf("List names %v, want %v", names, want)
	}
	if !entries[1].IsDir || entries[2].Size != 2 || entries[2].ModTime.IsZero() || !entries[3].Symlink {
		t.Fatalf("List entries %+v", entries)
	}
	sub, err := d.List("a/")
	if err != nil || len(sub) != 1 || sub[0].Name != "x.go" {
		t.Fatalf("List a: %+v, %v", sub, err)
	}
	_, err = d.List("missing")
	wantCode(t, "List missing", err, gathering.ENOTFOUND)
	_, err = d.List("b.txt")
	wantCode(t, "List file", err, gathering.EINVALID)
}

func TestDelete(t *testing.T) {
	t.Parallel()
	d, base := newDir(t, map[string]string{"f.txt": "x", "full/g.txt": "y"})
	if err := os.Mkdir(filepath.Join(base, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete("f.txt"); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete("empty"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "Delete non-empty", d.Delete("full"), gathering.ECONFLICT)
	wantCode(t, "Delete missing", d.Delete("f.txt"), gathering.ENOTFOUND)
	for _, root := range []string{".", "./", "./.", `.\`} {
		wantCode(t, "Delete root "+root, d.Delete(root), gathering.EFORBIDDEN)
	}
	if _, err := os.Stat(base); err != nil {
		t.Fatalf("root gone: %v", err)
	}
}

func TestMove(t *testing.T) {
	t.Parallel()
	d, _ := newDir(t, map[string]string{"a.txt": "A", "b.txt": "B", "dir/c.txt": "C"})
	if err := d.Move("a.txt", "new/deep/a.txt"); err != nil {
		t.Fatal(err)
	}
	if got, err := d.Read("new/deep/a.txt"); err != nil || string(got) != "A" {
		t.Fatalf("moved file %q, %v", got, err)
	}
	if err := d.Move("dir", "renamed"); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Read("renamed/c.txt"); string(got) != "C" {
		t.Fatalf("moved dir content %q", got)
	}
	wantCode(t, "Move over existing", d.Move("b.txt", "renamed/c.txt"), gathering.ECONFLICT)
	wantCode(t, "Move missing", d.Move("a.txt", "z.txt"), gathering.ENOTFOUND)
	wantCode(t, "Move root", d.Move(".", "z"), gathering.EINVALID)
	wantCode(t, "Move onto root", d.Move("b.txt", "."), gathering.EINVALID)
}
