package workspace

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/fsguard"
	"github.com/gathering/gathering/internal/gathering"
)

// flatten returns the paths of a tree, depth-first, directories marked
// with a trailing "/".
func flatten(entries []TreeEntry) []string {
	var out []string
	for _, e := range entries {
		p := e.Path
		if e.Type == TypeDir {
			p += "/"
		}
		out = append(out, p)
		out = append(out, flatten(e.Children)...)
	}
	return out
}

func TestTreeGitignoreAndHidden(t *testing.T) {
	t.Parallel()
	b := setup(t)
	root := b.root(t, 1)
	writeFile(t, root, ".gitignore", "# build output\n*.log\n!keep.log\nbuild/\n/top.txt\ndocs/*.tmp\n**/cache\n")
	for _, f := range []string{"a.log", "keep.log", "build/out.bin", "sub/build/x", "top.txt", "sub/top.txt",
		"docs/a.tmp", "docs/b.md", "x/cache/c", "main.go", ".env", ".git/config", "id_rsa", "zz/.gathering-tmp-1"} {
		writeFile(t, root, f, "x")
	}
	writeFile(t, root, "sub/build.txt", "build/ is for directories only")
	if err := os.Symlink("/etc", filepath.Join(root, "etc-link")); err != nil {
		t.Fatal(err)
	}
	tree, err := b.svc.Tree(t.Context(), "1", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"docs/", "docs/b.md", "sub/", "sub/build.txt", "sub/top.txt", "x/", "zz/", ".gitignore", "keep.log", "main.go"}
	if got := flatten(tree.Entries); !slices.Equal(got, want) || tree.Truncated {
		t.Fatalf("tree = %q (truncated %v)\nwant %q", got, tree.Truncated, want)
	}
}

func TestTreeDepth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	writeFile(t, b.root(t, 1), "a/b/c/d/e.txt", "x")
	writeFile(t, b.root(t, 1), "empty/.keep", "")
	if err := os.Remove(filepath.Join(b.root(t, 1), "empty/.keep")); err != nil {
		t.Fatal(err)
	}
	cases := map[int][]string{
		1: {"a/", "empty/"},
		2: {"a/", "a/b/", "empty/"},
		0: {"a/", "a/b/", "a/b/c/", "empty/"},
		4: {"a/", "a/b/", "a/b/c/", "a/b/c/d/", "empty/"},
		5: {"a/", "a/b/", "a/b/c/", "a/b/c/d/", "a/b/c/d/e.txt", "empty/"},
	}
	for depth, want := range cases {
		tree, err := b.svc.Tree(t.Context(), "1", depth, false)
		if got := flatten(tree.Entries); err != nil || !slices.Equal(got, want) {
			t.Errorf("depth %d: %q, %v; want %q", depth, got, err, want)
		}
	}
	// Beyond the depth limit a directory has no "children"; an empty one
	// has "children": [].
	tree, _ := b.svc.Tree(t.Context(), "1", 1, false)
	if js, _ := json.Marshal(tree.Entries[0]); strings.Contains(string(js), "children") {
		t.Errorf("unexpanded directory: %s", js)
	}
	tree, _ = b.svc.Tree(t.Context(), "1", 2, false)
	if js, _ := json.Marshal(tree.Entries[1]); !strings.Contains(string(js), `"children":[]`) {
		t.Errorf("empty directory: %s", js)
	}
	for _, depth := range []int{-1, 21} {
		_, err := b.svc.Tree(t.Context(), "1", depth, false)
		wantCode(t, "depth", err, gathering.EINVALID)
		wantField(t, "depth", err, "max_depth")
	}
}

func TestTreeAndInfoTruncated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	root := b.root(t, 1)
	for i := range 10 {
		writeFile(t, root, "d/f"+strconv.Itoa(i), "x")
	}
	d, err := fsguard.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	w := &treeWalker{d: d, maxDepth: 3, left: 6}
	entries, err := w.list(".", 1)
	if got := flatten(entries); err != nil || !w.truncated || len(got) != 6 {
		t.Fatalf("tree = %q, truncated %v, %v", got, w.truncated, err)
	}
	var info Info
	if err := count(t.Context(), d, &info, 6); err != nil || !info.Truncated || info.FileCount != 5 {
		t.Fatalf("info = %+v, %v", info, err)
	}
	tree, err := b.svc.Tree(t.Context(), "1", 0, false)
	if err != nil || tree.Truncated || len(flatten(tree.Entries)) != 11 {
		t.Fatalf("untruncated tree = %+v, %v", tree, err)
	}
}

func TestTreeGitStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	root := b.root(t, 1)
	git(t, root, "init", "--quiet")
	writeFile(t, root, "clean.txt", "same")
	writeFile(t, root, "changed.txt", "before")
	writeFile(t, root, "gone.txt", "x")
	git(t, root, "add", ".")
	git(t, root, "commit", "--quiet", "-m", "first")
	writeFile(t, root, "changed.txt", "after")
	writeFile(t, root, "new/untracked.txt", "new")
	writeFile(t, root, "staged.txt", "staged")
	git(t, root, "add", "staged.txt")
	if err := os.Remove(filepath.Join(root, "gone.txt")); err != nil {
		t.Fatal(err)
	}
	tree, err := b.svc.Tree(t.Context(), "1", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var collect func([]TreeEntry)
	collect = func(es []TreeEntry) {
		for _, e := range es {
			got[e.Path] = e.GitStatus
			collect(e.Children)
		}
	}
	collect(tree.Entries)
	want := map[string]string{"clean.txt": "", "changed.txt": "modified", "new": "", "new/untracked.txt": "untracked", "staged.txt": "added"}
	if !maps.Equal(got, want) {
		t.Fatalf("statuses = %v, want %v", got, want)
	}
	tree, err = b.svc.Tree(t.Context(), "1", 0, false)
	if err != nil || tree.Entries[1].GitStatus != "" {
		t.Fatalf("status without asking: %+v, %v", tree.Entries, err)
	}
}

func TestInfo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	root := b.root(t, 1)
	writeFile(t, root, "a.txt", "12345")
	writeFile(t, root, "d/b.txt", "123")
	writeFile(t, root, ".env", "SECRET=1")
	info, err := b.svc.Info(t.Context(), "1")
	want := Info{ProjectID: 1, Name: "one", FileCount: 2, TotalSize: 8}
	if err != nil || info != want {
		t.Fatalf("info = %+v, %v; want %+v", info, err, want)
	}
	git(t, root, "init", "--quiet")
	if info, err = b.svc.Info(t.Context(), "1"); err != nil || !info.IsGitRepo || info.FileCount != 2 {
		t.Fatalf("info of a repository = %+v, %v", info, err)
	}
	_, err = b.svc.Info(t.Context(), "7")
	wantCode(t, "unknown project", err, gathering.ENOTFOUND)
}

func TestParseIgnore(t *testing.T) {
	t.Parallel()
	ig := parseIgnore([]byte("node_modules/\n*.pyc\n/dist\nlib/*.o\n!lib/keep.o\n\n# c\n  \n"))
	cases := map[string]bool{ // path (dirs end in "/") → ignored
		"node_modules/": true, "a/node_modules/": true, "node_modules": false,
		"x.pyc": true, "a/b/x.pyc": true, "dist": true, "dist/": true, "a/dist": false,
		"lib/a.o": true, "lib/keep.o": false, "a/lib/a.o": false, "main.go": false,
	}
	for p, want := range cases {
		dir := strings.HasSuffix(p, "/")
		if got := ig.ignored(strings.TrimSuffix(p, "/"), dir); got != want {
			t.Errorf("ignored(%q) = %v, want %v", p, got, want)
		}
	}
}
