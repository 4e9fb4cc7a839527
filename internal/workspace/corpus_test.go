package workspace

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
)

// refusedPaths must each be refused with EFORBIDDEN, field "path", by
// every file operation. Some need the fixture refusedFixture builds in the
// project's root: a git repository, secret files, and the symbolic links
// etc-link (to /etc), sibling-link (to a sibling project's directory),
// file-link (to a file outside) and dir-link (to a directory outside).
// Copy both into tests of other packages as needed (HTTP paths must be
// URL-escaped there).
var refusedPaths = []string{
	// traversal
	"..", "../x", "../../etc/passwd", "a/../../x", "a/b/../../../x", "a/../b/../../x", "...", "a/.. /b",
	// percent-encoded and double-encoded traversal
	"%2e%2e", "%2e%2e/x", "%2e%2e%2fx", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "..%2fx", "a%2f..%2f..%2fx",
	"%252e%252e%252fx", "%252e%252e/%252e%252e/etc", "%25252e%25252e%25252fx",
	// backslashes
	`..\x`, `a\..\..\x`, `..\..\etc\passwd`, "%2e%2e%5cx", `\etc\passwd`, `\\server\share`,
	// absolute
	"/etc/passwd", "//etc/passwd", "/", "%2fetc%2fpasswd", `C:\Windows`, "c:/windows/system32",
	// NUL
	"a\x00b", "a.txt\x00.png", "a%00b",
	// secret names
	".env", "config/.env.local", ".ENV.production", "%2eenv", ".ssh/id_rsa", "id_ed25519", "server.pem",
	"tls.key", "tls.KEY.", "credentials.json", "aws/credentials",
	// git internals
	".git", ".git/config", ".git/HEAD", ".GIT/config", ".git./config", `.git\config`, "sub/.git/config", "%2egit/config",
	// symbolic links
	"etc-link", "etc-link/gathering-absent", "sibling-link", "sibling-link/sibling.txt", "sibling-link/new.txt",
	"file-link", "dir-link", "dir-link/outside.txt", "dir-link/new.txt",
}

// refusedFixture prepares project 1 for refusedPaths and returns the
// directory outside it that the links point to.
func refusedFixture(t *testing.T, b *bundle) string {
	t.Helper()
	root, sibling, outside := b.root(t, 1), b.root(t, 2), t.TempDir()
	git(t, root, "init", "--quiet")
	writeFile(t, sibling, "sibling.txt", "sibling's")
	writeFile(t, outside, "outside.txt", "outside")
	for _, f := range []string{".env", "config/.env.local", ".ssh/id_rsa", "id_ed25519", "server.pem", "tls.key", "credentials.json", "a.txt"} {
		writeFile(t, root, f, "secret")
	}
	links := map[string]string{
		"etc-link": "/etc", "sibling-link": sibling, "file-link": filepath.Join(outside, "outside.txt"), "dir-link": outside,
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	return outside
}

func TestRefusedPathsCorpus(t *testing.T) {
	t.Parallel()
	if len(refusedPaths) < 30 {
		t.Fatalf("only %d cases", len(refusedPaths))
	}
	b := setup(t)
	outside := refusedFixture(t, b)
	ctx := t.Context()
	for _, p := range refusedPaths {
		_, err := b.svc.Read(ctx, "1", p)
		wantRefused(t, "Read", p, err)
		_, err = b.svc.Raw(ctx, "1", p)
		wantRefused(t, "Raw", p, err)
		_, err = b.svc.Write(ctx, "1", p, "overwritten", "", true)
		wantRefused(t, "Write", p, err)
		wantRefused(t, "Delete", p, b.svc.Delete(ctx, "1", p))
	}
	unchanged(t, filepath.Join(b.root(t, 2), "sibling.txt"), "sibling's")
	unchanged(t, filepath.Join(outside, "outside.txt"), "outside")
	unchanged(t, filepath.Join(b.root(t, 1), ".env"), "secret")
	for _, p := range []string{filepath.Join(outside, "new.txt"), filepath.Join(b.root(t, 2), "new.txt"), "/etc/gathering-absent"} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s was created: %v", p, err)
		}
	}
	for _, link := range []string{"etc-link", "sibling-link", "file-link", "dir-link"} {
		if _, err := os.Lstat(filepath.Join(b.root(t, 1), link)); err != nil {
			t.Errorf("link %s was deleted: %v", link, err)
		}
	}
}

// wantRefused checks the one shape of a refused path.
func wantRefused(t *testing.T, op, p string, err error) {
	t.Helper()
	if gathering.ErrorCode(err) != gathering.EFORBIDDEN || gathering.ErrorMessage(err) != notAllowed {
		t.Errorf("%s(%q): %v, want EFORBIDDEN %q", op, p, err, notAllowed)
		return
	}
	fields := gathering.ErrorFields(err)
	if len(fields) != 1 || fields[0].Field != "path" {
		t.Errorf("%s(%q): fields %v, want one on path", op, p, fields)
	}
}

func unchanged(t *testing.T, p, want string) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil || string(got) != want {
		t.Errorf("%s = %q, %v; want %q", p, got, err, want)
	}
}

func TestEmptyPathInvalid(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.svc.Read(t.Context(), "1", "")
	wantCode(t, "empty path", err, gathering.EINVALID)
	wantField(t, "empty path", err, "path")
}
