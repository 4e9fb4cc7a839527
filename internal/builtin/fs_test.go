package builtin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
)

// refusedPaths maps each path every fs tool must refuse to the code it
// must refuse it with. The symbolic links are created by corpusWorkspace.
var refusedPaths = map[string]string{
	"../x":                       gathering.EFORBIDDEN,
	`..\x`:                       gathering.EFORBIDDEN,
	"..":                         gathering.EFORBIDDEN,
	"a/../../x":                  gathering.EFORBIDDEN,
	"a/b/../../../x":             gathering.EFORBIDDEN,
	`a\..\..\x`:                  gathering.EFORBIDDEN,
	"...":                        gathering.EFORBIDDEN,
	"%2e%2e%2fx":                 gathering.EFORBIDDEN,
	"%2E%2E%2Fx":                 gathering.EFORBIDDEN,
	"..%2fx":                     gathering.EFORBIDDEN,
	"%252e%252e%252f":            gathering.EFORBIDDEN,
	"%252e%252e%252fetc":         gathering.EFORBIDDEN,
	"%2fetc%2fpasswd":            gathering.EFORBIDDEN,
	"/etc/passwd":                gathering.EFORBIDDEN,
	`\etc\passwd`:                gathering.EFORBIDDEN,
	`C:\Windows`:                 gathering.EFORBIDDEN,
	"c:/windows/system32":        gathering.EFORBIDDEN,
	`\\server\share`:             gathering.EFORBIDDEN,
	"a\x00b":                     gathering.EFORBIDDEN,
	"a%00b":                      gathering.EFORBIDDEN,
	".env":                       gathering.EFORBIDDEN,
	"sub/.env":                   gathering.EFORBIDDEN,
	".env.production":            gathering.EFORBIDDEN,
	"%2eenv":                     gathering.EFORBIDDEN,
	".git/config":                gathering.EFORBIDDEN,
	".git":                       gathering.EFORBIDDEN,
	".ssh/id_rsa":                gathering.EFORBIDDEN,
	"id_rsa.pub":                 gathering.EFORBIDDEN,
	"keys/id_ed25519":            gathering.EFORBIDDEN,
	"server.pem":                 gathering.EFORBIDDEN,
	"tls.key":                    gathering.EFORBIDDEN,
	"TLS.KEY":                    gathering.EFORBIDDEN,
	"credentials.json":           gathering.EFORBIDDEN,
	"aws/Credentials":            gathering.EFORBIDDEN,
	"link-outside":               gathering.EFORBIDDEN, // a symbolic link to a file outside the root
	"dir-outside/secret.txt":     gathering.EFORBIDDEN, // through a link to a directory outside
	"relative-escape/secret.txt": gathering.EFORBIDDEN, // through a relative link ../outside
	"innocent.txt":               gathering.EFORBIDDEN, // a link to .env inside the root
	"sub/link-outside":           gathering.EFORBIDDEN,
}

// corpusWorkspace fills project p's workspace with secrets and links, and
// returns its root and the directory outside it the links point to.
func corpusWorkspace(t *testing.T, b *bundle) (root, outside string) {
	t.Helper()
	root = b.root(t, "p")
	outside = t.TempDir()
	writeFile(t, outside, "secret.txt", "outside secret")
	for _, p := range []string{".env", "sub/.env", ".git/config", ".ssh/id_rsa", "server.pem", "ok.txt", "a/b/c.txt"} {
		writeFile(t, root, p, "SECRET="+p)
	}
	rel, err := filepath.Rel(root, outside)
	if err != nil || !strings.HasPrefix(rel, "..") {
		t.Fatalf("relative path to outside: %q, %v", rel, err)
	}
	links := map[string]string{
		"link-outside":     filepath.Join(outside, "secret.txt"),
		"dir-outside":      outside,
		"relative-escape":  rel,
		"innocent.txt":     filepath.Join(root, ".env"),
		"sub/link-outside": filepath.Join(outside, "secret.txt"),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	return root, outside
}

func TestFSRefusesPathCorpus(t *testing.T) {
	t.Parallel()
	if len(refusedPaths) < 30 {
		t.Fatalf("corpus has %d cases", len(refusedPaths))
	}
	b := setup(t, Options{})
	root, outside := corpusWorkspace(t, b)
	for p, code := range refusedPaths {
		out, err := b.call("fs.read", in{"project_id": "p", "path": p})
		if err == nil {
			t.Errorf("fs.read %q returned %v", p, out)
		}
		wantField(t, "fs.read "+p, err, code, "/path")
		_, err = b.call("fs.write", in{"project_id": "p", "path": p, "content": "overwritten"})
		wantField(t, "fs.write "+p, err, code, "/path")
		_, err = b.call("fs.delete", in{"project_id": "p", "path": p})
		wantField(t, "fs.delete "+p, err, code, "/path")
		_, err = b.call("fs.move", in{"project_id": "p", "from": "ok.txt", "to": p})
		wantCode(t, "fs.move to "+p, err, code)
		_, err = b.call("fs.move", in{"project_id": "p", "from": p, "to": "stolen.txt"})
		wantCode(t, "fs.move from "+p, err, code)
	}
	for file, want := range map[string]string{filepath.Join(outside, "secret.txt"): "outside secret", filepath.Join(root, ".env"): "SECRET=.env"} {
		if got, err := os.ReadFile(file); err != nil || string(got) != want {
			t.Errorf("%s changed: %q, %v", file, got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "stolen.txt")); !os.IsNotExist(err) {
		t.Errorf("a refused move happened: %v", err)
	}
}

func TestFSAllowsNestedPaths(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	root := b.root(t, "p")
	for _, p := range []string{"a/b/c.txt", "docs/readme.md", "my notes/hello world.txt", "données/été.md",
		"日本語/ファイル.txt", "notes..txt", "a.b/c", ".gitignore", "-dash.txt", "x/./y.txt"} {
		content := "content of " + p + " ✓"
		out := b.mustCall(t, "fs.write", in{"project_id": "p", "path": p, "content": content})
		clean := filepath.ToSlash(filepath.Clean(p))
		if out["path"] != clean || out["size"] != float64(len(content)) {
			t.Errorf("fs.write %q = %v", p, out)
		}
		out = b.mustCall(t, "fs.read", in{"project_id": "p", "path": p})
		if out["content"] != content || out["path"] != clean || out["size"] != float64(len(content)) {
			t.Errorf("fs.read %q = %v", p, out)
		}
		if got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p))); err != nil || string(got) != content {
			t.Errorf("%q on disk: %q, %v", p, got, err)
		}
	}
}

func TestFSOperations(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	root := b.root(t, "p")
	writeFile(t, root, ".env", "TOKEN=1")
	writeFile(t, root, "image.bin", "\xff\xfe\x00binary")
	b.mustCall(t, "fs.write", in{"project_id": "p", "path": "src/main.go", "content": "package main\n// TODO: more\n"})
	b.mustCall(t, "fs.write", in{"project_id": "p", "path": "src/util.go", "content": "package main\n"})

	out := b.mustCall(t, "fs.list", in{"project_id": "p"})
	if names := entryNames(out["entries"]); strings.Join(names, ",") != "image.bin,src" {
		t.Fatalf("fs.list root: %v", out)
	}
	out = b.mustCall(t, "fs.list", in{"project_id": "p", "path": "src"})
	if names := entryNames(out["entries"]); strings.Join(names, ",") != "main.go,util.go" {
		t.Fatalf("fs.list src: %v", out)
	}
	out = b.mustCall(t, "fs.search", in{"project_id": "p", "contains": "TODO"})
	if m := out["matches"].([]any); len(m) != 1 || m[0].(map[string]any)["path"] != "src/main.go" || m[0].(map[string]any)["line"] != 2.0 {
		t.Fatalf("fs.search contains: %v", out)
	}
	out = b.mustCall(t, "fs.search", in{"project_id": "p", "name": "*.go", "limit": 1})
	if m := out["matches"].([]any); len(m) != 1 {
		t.Fatalf("fs.search name with limit: %v", out)
	}
	out = b.mustCall(t, "fs.search", in{"project_id": "p", "name": "*.rs"})
	if m, ok := out["matches"].([]any); !ok || len(m) != 0 {
		t.Fatalf("fs.search without matches: %v", out)
	}

	_, err := b.call("fs.read", in{"project_id": "p", "path": "image.bin"})
	wantField(t, "fs.read binary", err, gathering.EINVALID, "/path")
	_, err = b.call("fs.read", in{"project_id": "p", "path": "missing.txt"})
	wantCode(t, "fs.read missing", err, gathering.ENOTFOUND)
	_, err = b.call("fs.search", in{"project_id": "p", "name": "[", "path": "src"})
	wantCode(t, "fs.search bad glob", err, gathering.EINVALID)

	out = b.mustCall(t, "fs.move", in{"project_id": "p", "from": "src/util.go", "to": "lib/util.go"})
	if out["from"] != "src/util.go" || out["to"] != "lib/util.go" {
		t.Fatalf("fs.move: %v", out)
	}
	_, err = b.call("fs.move", in{"project_id": "p", "from": "src/main.go", "to": "lib/util.go"})
	wantCode(t, "fs.move onto existing", err, gathering.ECONFLICT)
	out = b.mustCall(t, "fs.delete", in{"project_id": "p", "path": "lib/util.go"})
	if out["deleted"] != true || out["path"] != "lib/util.go" {
		t.Fatalf("fs.delete: %v", out)
	}
	if _, err := os.Stat(filepath.Join(root, "lib", "util.go")); !os.IsNotExist(err) {
		t.Fatalf("deleted file still there: %v", err)
	}
	_, err = b.call("fs.delete", in{"project_id": "p", "path": "src"})
	wantCode(t, "fs.delete non-empty dir", err, gathering.ECONFLICT)
}

func entryNames(v any) []string {
	var names []string
	for _, e := range v.([]any) {
		names = append(names, e.(map[string]any)["name"].(string))
	}
	return names
}
