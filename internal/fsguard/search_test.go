package fsguard

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
)

func searchFixture(t *testing.T) (*Dir, string) {
	t.Helper()
	return newDir(t, map[string]string{
		"main.go":          "package main\n// TODO: one\nfunc main() {}\n",
		"src/util.go":      "package src\r\n// TODO: two\r\n",
		"src/util_test.go": "package src\n",
		"docs/readme.md":   "TODO in docs\n",
		".env":             "TODO secret\n",
		".git/HEAD":        "TODO git\n",
		"keys/a.pem":       "TODO pem\n",
		"bin/blob":         "TODO\xff\xfe binary\n",
	})
}

func TestSearchByName(t *testing.T) {
	t.Parallel()
	d, _ := searchFixture(t)
	got, err := d.Search("", "*.go", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Match{{Path: "main.go"}, {Path: "src/util.go"}, {Path: "src/util_test.go"}}
	if !slices.Equal(got, want) {
		t.Fatalf("Search *.go = %+v, want %+v", got, want)
	}
	got, _ = d.Search("src", "", "", 0)
	if len(got) != 2 || got[0].Path != "src/util.go" {
		t.Fatalf("Search src = %+v", got)
	}
	got, _ = d.Search(".", "docs", "", 0)
	if len(got) != 1 || !got[0].IsDir {
		t.Fatalf("Search for a directory = %+v", got)
	}
}

func TestSearchByContent(t *testing.T) {
	t.Parallel()
	d, _ := searchFixture(t)
	got, err := d.Search("", "", "TODO", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Match{
		{Path: "docs/readme.md", Line: 1, Text: "TODO in docs"},
		{Path: "main.go", Line: 2, Text: "// TODO: one"},
		{Path: "src/util.go", Line: 2, Text: "// TODO: two"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Search TODO = %+v, want %+v", got, want)
	}
	got, _ = d.Search("", "*.go", "TODO", 0)
	if len(got) != 2 {
		t.Fatalf("Search *.go TODO = %+v", got)
	}
}

func TestSearchLimitAndErrors(t *testing.T) {
	t.Parallel()
	d, base := searchFixture(t)
	if got, _ := d.Search("", "", "", 2); len(got) != 2 {
		t.Fatalf("limit 2 gave %d", len(got))
	}
	many := strings.Repeat("hit\n", MaxSearchLimit+50)
	if err := d.Write("many.txt", []byte(many)); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Search("", "", "hit", 0); len(got) != DefaultSearchLimit {
		t.Fatalf("default limit gave %d", len(got))
	}
	if got, _ := d.Search("", "", "hit", 1<<30); len(got) != MaxSearchLimit {
		t.Fatalf("max limit gave %d", len(got))
	}
	_, err := d.Search("", "[", "", 0)
	wantCode(t, "bad glob", err, gathering.EINVALID)
	_, err = d.Search("missing", "", "", 0)
	wantCode(t, "missing dir", err, gathering.ENOTFOUND)
	// Oversized files are skipped, not read.
	if err := os.WriteFile(filepath.Join(base, "huge.txt"), []byte("needle\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(base, "huge.txt"), MaxFileSize+1); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Search("", "", "needle", 0); len(got) != 0 {
		t.Fatalf("oversized file searched: %+v", got)
	}
}

func TestSnippetShortensLongLines(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", maxSnippet)
	s := snippet([]byte(long))
	if len(s) > maxSnippet+len("…") || !strings.HasSuffix(s, "…") || !strings.HasPrefix(long, strings.TrimSuffix(s, "…")) {
		t.Fatalf("snippet %q", s)
	}
}
