package workspace

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/fsguard"
	"github.com/gathering/gathering/internal/gathering"
)

func TestReadTextAndBinary(t *testing.T) {
	t.Parallel()
	b := setup(t)
	root := b.root(t, 1)
	writeFile(t, root, "src/main.go", "package main\n\nfunc main() {}")
	writeFile(t, root, "img.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	writeFile(t, root, "noext", "\x00\x01\x02")
	f, err := b.svc.Read(t.Context(), "1", "./src//main.go")
	if err != nil {
		t.Fatal(err)
	}
	if f.Path != "src/main.go" || f.Binary || f.Content != "package main\n\nfunc main() {}" || f.Encoding != "utf-8" ||
		f.Lines != 3 || f.Size != 28 || f.Hash != fmt.Sprintf("%x", sha256.Sum256([]byte(f.Content))) || f.Modified.IsZero() {
		t.Fatalf("text file = %+v", f)
	}
	for p, mime := range map[string]string{"img.png": "image/png", "noext": "application/octet-stream"} {
		f, err := b.svc.Read(t.Context(), "1", p)
		if err != nil || !f.Binary || f.Content != "" || f.Encoding != "" || f.Lines != 0 || f.MIME != mime || f.Size == 0 {
			t.Errorf("binary %s = %+v, %v", p, f, err)
		}
	}
	_, err = b.svc.Read(t.Context(), "1", "missing.txt")
	wantCode(t, "missing", err, gathering.ENOTFOUND)
	wantField(t, "missing", err, "path")
	_, err = b.svc.Read(t.Context(), "1", "src")
	wantCode(t, "directory", err, gathering.EINVALID)
}

func TestReadTooLarge(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := os.WriteFile(filepath.Join(b.root(t, 1), "big.bin"), make([]byte, fsguard.MaxFileSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := b.svc.Read(t.Context(), "1", "big.bin")
	wantCode(t, "read big", err, gathering.ETOOLARGE)
	_, err = b.svc.Raw(t.Context(), "1", "big.bin")
	wantCode(t, "raw big", err, gathering.ETOOLARGE)
	_, err = b.svc.Write(t.Context(), "1", "new.bin", strings.Repeat("x", fsguard.MaxFileSize+1), "", false)
	wantCode(t, "write big", err, gathering.ETOOLARGE)
}

func TestWriteIfMatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	_, err := b.svc.Write(ctx, "1", "a/b/new.txt", "v1", "0000", false)
	wantCode(t, "If-Match on a missing file", err, gathering.ECONFLICT)
	wantField(t, "If-Match on a missing file", err, "if_match")
	f1, err := b.svc.Write(ctx, "1", "a/b/new.txt", "v1\n", "", false)
	if err != nil || f1.Path != "a/b/new.txt" || f1.Content != "v1\n" || f1.Lines != 1 || f1.Hash != hash([]byte("v1\n")) {
		t.Fatalf("create = %+v, %v", f1, err)
	}
	f2, err := b.svc.Write(ctx, "1", "a/b/new.txt", "v2\n", f1.Hash, false)
	if err != nil || f2.Content != "v2\n" {
		t.Fatalf("matching write = %+v, %v", f2, err)
	}
	_, err = b.svc.Write(ctx, "1", "a/b/new.txt", "v3\n", f1.Hash, false)
	wantCode(t, "stale If-Match", err, gathering.ECONFLICT)
	if !strings.Contains(gathering.ErrorMessage(err), f2.Hash) {
		t.Errorf("conflict message %q does not name the current hash %s", gathering.ErrorMessage(err), f2.Hash)
	}
	got, err := b.svc.Read(ctx, "1", "a/b/new.txt")
	if err != nil || got.Content != "v2\n" || got.Hash != f2.Hash {
		t.Fatalf("after the conflict = %+v, %v", got, err)
	}
}

func TestWriteBackup(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	root := b.root(t, 1)
	if _, err := b.svc.Write(ctx, "1", "notes.md", "first", "", true); err != nil {
		t.Fatal(err) // nothing to back up yet
	}
	for _, c := range []string{"second", "third", "fourth"} {
		if _, err := b.svc.Write(ctx, "1", "notes.md", c, "", true); err != nil {
			t.Fatal(err)
		}
	}
	unchanged(t, filepath.Join(root, "notes.md"), "fourth")
	unchanged(t, filepath.Join(root, "notes.md.bak"), "first")
	unchanged(t, filepath.Join(root, "notes.md.bak.1"), "second")
	unchanged(t, filepath.Join(root, "notes.md.bak.2"), "third")
}

func TestDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	root := b.root(t, 1)
	writeFile(t, root, "dir/gone.txt", "x")
	wantCode(t, "non-empty directory", b.svc.Delete(ctx, "1", "dir"), gathering.ECONFLICT)
	if err := b.svc.Delete(ctx, "1", "dir/gone.txt"); err != nil {
		t.Fatal(err)
	}
	if err := b.svc.Delete(ctx, "1", "dir"); err != nil {
		t.Fatal(err)
	}
	err := b.svc.Delete(ctx, "1", "dir")
	wantCode(t, "missing", err, gathering.ENOTFOUND)
	wantField(t, "missing", err, "path")
	wantRefused(t, "Delete", ".", b.svc.Delete(ctx, "1", "."))
}

func TestRawContentTypes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	root := b.root(t, 1)
	files := map[string][2]string{ // name → content, content type
		"index.html": {"<p>hi</p>", "text/html; charset=utf-8"},
		"logo.png":   {"\x89PNG\r\n\x1a\n", "image/png"},
		"icon.svg":   {"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"},
		"page":       {"<!DOCTYPE html><html></html>", "text/html; charset=utf-8"},
		"blob":       {"\x00\x01", "application/octet-stream"},
	}
	for name, c := range files {
		writeFile(t, root, name, c[0])
	}
	for name, c := range files {
		r, err := b.svc.Raw(t.Context(), "1", name)
		if err != nil || string(r.Data) != c[0] || r.ContentType != c[1] || r.Size != int64(len(c[0])) ||
			r.Hash != hash([]byte(c[0])) || r.Modified.IsZero() {
			t.Errorf("Raw(%s) = %q %q %d, %v; want %q", name, r.Data, r.ContentType, r.Size, err, c[1])
		}
	}
}
