package workspace

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/store"
)

// The generated project: benchDirs directories of benchFilesPerDir files,
// 10,000 entries in all, exactly MaxTreeEntries (which counts directories
// too), so the tree lists everything untruncated.
const (
	benchDirs        = 100
	benchFilesPerDir = 99
	benchDepth       = 2
)

// generate fills root with the benchmark project, optionally committed to
// git, and ages it so that its trees are not racy.
func generate(tb testing.TB, root string, withGit bool) {
	tb.Helper()
	line := []byte("package p // a line of text\n")
	for d := range benchDirs {
		dir := filepath.Join(root, "dir"+pad(d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatal(err)
		}
		for f := range benchFilesPerDir {
			if err := os.WriteFile(filepath.Join(dir, "file"+pad(f)+".go"), line, 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if withGit {
		gitTB(tb, root, "init", "--quiet")
		gitTB(tb, root, "add", ".")
		gitTB(tb, root, "commit", "--quiet", "-m", "generated")
	}
	age(tb, root)
}

// pad writes n in three digits.
func pad(n int) string {
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}

// aged is the modification time age gives: always the same, so that
// ageing again hides a change from the cache's checks.
var aged = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

// age sets the modification time of everything under root, .git
// included, to aged.
func age(tb testing.TB, root string) {
	tb.Helper()
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, aged, aged)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// gitTB runs git in dir with a clean configuration.
func gitTB(tb testing.TB, dir string, args ...string) {
	tb.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=T", "-c", "user.email=t@example.com"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tb.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull}
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("git %v: %v: %s", args, err, out)
	}
}

// project returns a Service with one project, 1, in its own directory,
// and that directory (setup and its helpers take only a *testing.T).
func project(tb testing.TB) (*Service, string) {
	tb.Helper()
	fp := &fakeProjects{projects: map[int64]store.Project{1: {ID: 1, Name: "one"}}}
	svc := New(fp, filepath.Join(tb.TempDir(), "workspaces"))
	root, err := svc.Root(tb.Context(), "1")
	if err != nil {
		tb.Fatal(err)
	}
	return svc, root
}

// treeOnce lists project 1 and checks that nothing was left out.
func treeOnce(tb testing.TB, svc *Service, withGit bool) {
	tree, err := svc.Tree(tb.Context(), "1", benchDepth, withGit)
	if err != nil || tree.Truncated || len(tree.Entries) != benchDirs {
		tb.Fatalf("tree: %d entries, truncated %v, %v", len(tree.Entries), tree.Truncated, err)
	}
}

// BenchmarkTree10000Files lists a project of 100 directories and 9,900
// files, cold (the cache dropped before every listing) and cached, with
// and without git status.
func BenchmarkTree10000Files(b *testing.B) {
	for _, withGit := range []bool{false, true} {
		svc, root := project(b)
		generate(b, root, withGit)
		suffix := map[bool]string{false: "", true: "/git"}[withGit]
		b.Run("cold"+suffix, func(b *testing.B) {
			for b.Loop() {
				svc.trees.invalidate(root)
				treeOnce(b, svc, withGit)
			}
		})
		b.Run("cached"+suffix, func(b *testing.B) {
			treeOnce(b, svc, withGit)
			walks := svc.trees.walks.Load()
			for b.Loop() {
				treeOnce(b, svc, withGit)
			}
			if n := svc.trees.walks.Load() - walks; n != 0 {
				b.Fatalf("%d walks while cached", n)
			}
		})
	}
}

// BenchmarkRead1MiB reads a 1 MiB text file through the Service.
func BenchmarkRead1MiB(b *testing.B) {
	svc, root := project(b)
	content := strings.Repeat("the quick brown fox jumps over the lazy dog.\n", 1<<20/45+1)[:1<<20]
	if err := os.WriteFile(filepath.Join(root, "big.txt"), []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		f, err := svc.Read(b.Context(), "1", "big.txt")
		if err != nil || f.Size != int64(len(content)) || f.Binary {
			b.Fatalf("read: size %d, binary %v, %v", f.Size, f.Binary, err)
		}
	}
}
