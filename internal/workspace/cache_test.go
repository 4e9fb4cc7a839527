package workspace

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// cached is a project with a few aged files, whose trees can be cached.
type cached struct {
	*bundle
	root string
}

// setupCached returns project 1 holding a.txt, d/b.txt and e/c.txt, aged.
func setupCached(t *testing.T) *cached {
	t.Helper()
	b := setup(t)
	c := &cached{bundle: b, root: b.root(t, 1)}
	for _, f := range []string{"a.txt", "d/b.txt", "e/c.txt"} {
		writeFile(t, c.root, f, "one")
	}
	age(t, c.root)
	return c
}

// tree lists project 1 to depth, failing the test on an error.
func (c *cached) tree(t *testing.T, depth int, withGit bool) Tree {
	t.Helper()
	tree, err := c.svc.Tree(t.Context(), "1", depth, withGit)
	if err != nil {
		t.Fatalf("Tree: %v", err)
	}
	return tree
}

// walks is how many trees have been built so far.
func (c *cached) walks() int64 { return c.svc.trees.walks.Load() }

// wantPaths lists project 1 and compares its paths with want; it reports
// whether the tree was built (not served from the cache).
func (c *cached) wantPaths(t *testing.T, want ...string) (walked bool) {
	t.Helper()
	before := c.walks()
	if got := flatten(c.tree(t, 0, false).Entries); !slices.Equal(got, want) {
		t.Fatalf("tree = %q, want %q", got, want)
	}
	return c.walks() != before
}

func TestTreeCacheServesSecondRequest(t *testing.T) {
	t.Parallel()
	c := setupCached(t)
	first := c.tree(t, 0, false)
	first.Entries[0].Name = "changed by the caller"
	second := c.tree(t, 0, false)
	if c.walks() != 1 {
		t.Fatalf("%d walks for two requests, want 1", c.walks())
	}
	if second.Entries[0].Name != "d" {
		t.Fatalf("a caller changed the cached tree: %+v", second.Entries[0])
	}
	if third := c.tree(t, 0, false); !reflect.DeepEqual(second, third) || c.walks() != 1 {
		t.Fatalf("cached trees differ (%d walks):\n%+v\n%+v", c.walks(), second, third)
	}
}

func TestTreeCacheWritesThroughService(t *testing.T) {
	t.Parallel()
	c := setupCached(t)
	ctx := t.Context()
	c.wantPaths(t, "d/", "d/b.txt", "e/", "e/c.txt", "a.txt")
	// Ageing again sets every modification time back as it was, so only
	// the invalidation by Write and Delete can explain the new trees.
	if _, err := c.svc.Write(ctx, "1", "d/new.txt", "new", "", false); err != nil {
		t.Fatal(err)
	}
	age(t, c.root)
	c.wantPaths(t, "d/", "d/b.txt", "d/new.txt", "e/", "e/c.txt", "a.txt")
	if c.wantPaths(t, "d/", "d/b.txt", "d/new.txt", "e/", "e/c.txt", "a.txt") {
		t.Fatal("the tree after the write was not cached")
	}
	if err := c.svc.Delete(ctx, "1", "d/b.txt"); err != nil {
		t.Fatal(err)
	}
	age(t, c.root)
	c.wantPaths(t, "d/", "d/new.txt", "e/", "e/c.txt", "a.txt")
}

func TestTreeCacheSeesDiskChanges(t *testing.T) {
	t.Parallel()
	c := setupCached(t)
	c.wantPaths(t, "d/", "d/b.txt", "e/", "e/c.txt", "a.txt")
	if c.wantPaths(t, "d/", "d/b.txt", "e/", "e/c.txt", "a.txt") {
		t.Fatal("the second tree was not served from the cache")
	}
	writeFile(t, c.root, "d/outside.txt", "made outside GatheRing")
	c.wantPaths(t, "d/", "d/b.txt", "d/outside.txt", "e/", "e/c.txt", "a.txt")
	age(t, c.root)
	c.wantPaths(t, "d/", "d/b.txt", "d/outside.txt", "e/", "e/c.txt", "a.txt")
	if c.wantPaths(t, "d/", "d/b.txt", "d/outside.txt", "e/", "e/c.txt", "a.txt") {
		t.Fatal("the tree after ageing was not served from the cache")
	}
	if err := os.RemoveAll(filepath.Join(c.root, "e")); err != nil {
		t.Fatal(err)
	}
	c.wantPaths(t, "d/", "d/b.txt", "d/outside.txt", "a.txt")
}

func TestTreeCacheGitStatus(t *testing.T) {
	t.Parallel()
	c := setupCached(t)
	git(t, c.root, "init", "--quiet")
	git(t, c.root, "add", ".")
	git(t, c.root, "commit", "--quiet", "-m", "first")
	writeFile(t, c.root, "n.txt", "new")
	age(t, c.root)
	status := func() string {
		t.Helper()
		for _, e := range c.tree(t, 0, true).Entries {
			if e.Path == "n.txt" {
				return e.GitStatus
			}
		}
		t.Fatal("n.txt is not in the tree")
		return ""
	}
	if s1, s2 := status(), status(); s1 != "untracked" || s2 != "untracked" || c.walks() != 1 {
		t.Fatalf("statuses %q, %q after %d walks; want untracked twice, 1 walk", s1, s2, c.walks())
	}
	git(t, c.root, "add", "n.txt")
	if s := status(); s != "added" {
		t.Fatalf("status after git add = %q", s)
	}
	age(t, c.root)
	status()
	if s := status(); s != "added" || c.walks() != 3 {
		t.Fatalf("status %q after %d walks, want added after 3", s, c.walks())
	}
	git(t, c.root, "commit", "--quiet", "-m", "second")
	if s := status(); s != "" {
		t.Fatalf("status after git commit = %q", s)
	}
}

func TestTreeCacheEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	c := setupCached(t)
	c.svc.trees = newTreeCache(2)
	for _, depth := range []int{1, 2, 1, 3} { // 2 is the least recently used when 3 comes
		c.tree(t, depth, false)
	}
	if c.walks() != 3 {
		t.Fatalf("%d walks, want 3", c.walks())
	}
	c.tree(t, 1, false)
	c.tree(t, 3, false)
	if c.walks() != 3 {
		t.Fatalf("depths 1 and 3 were not both cached (%d walks)", c.walks())
	}
	c.tree(t, 2, false)
	if c.walks() != 4 {
		t.Fatalf("depth 2 was not evicted (%d walks)", c.walks())
	}
}

func TestTreeCacheEditInPlaceShowsWithinMaxAge(t *testing.T) {
	t.Parallel()
	c := setupCached(t)
	size := func() int64 { return c.tree(t, 0, false).Entries[2].Size }
	if s := size(); s != 3 {
		t.Fatalf("size of a.txt = %d", s)
	}
	writeFile(t, c.root, "a.txt", "longer") // in place: its directory keeps its time
	if s := size(); s != 3 {
		t.Fatalf("size of a.txt = %d; the cache no longer serves the tree, update the test and the doc", s)
	}
	c.svc.trees.mu.Lock()
	for _, k := range c.svc.trees.lru.Keys() {
		ct, _ := c.svc.trees.lru.Peek(k)
		ct.built = ct.built.Add(-treeMaxAge)
	}
	c.svc.trees.mu.Unlock()
	if s := size(); s != 6 {
		t.Fatalf("size of a.txt after treeMaxAge = %d, want 6", s)
	}
}

func TestTreeCacheSkipsRacyTrees(t *testing.T) {
	t.Parallel()
	b := setup(t)
	writeFile(t, b.root(t, 1), "d/fresh.txt", "just written")
	c := &cached{bundle: b, root: b.root(t, 1)}
	c.tree(t, 0, false)
	c.tree(t, 0, false)
	if c.walks() != 2 {
		t.Fatalf("%d walks of a directory changed just now, want 2 (not cached)", c.walks())
	}
}

// TestTreeCacheSpeedup asserts a ratio, not times: on the benchmark's
// project, the best of three cached listings is at least five times faster
// than the best of three cold ones (about 25× on a 2-core VM).
func TestTreeCacheSpeedup(t *testing.T) {
	t.Parallel()
	svc, root := project(t)
	generate(t, root, false)
	best := func(prepare func()) time.Duration {
		fastest := time.Duration(1<<63 - 1)
		for range 3 {
			prepare()
			start := time.Now()
			treeOnce(t, svc, false)
			fastest = min(fastest, time.Since(start))
		}
		return fastest
	}
	cold := best(func() { svc.trees.invalidate(root) })
	warm := best(func() {})
	if cold < 5*warm {
		t.Fatalf("cold %v, cached %v: less than 5× faster", cold, warm)
	}
	t.Logf("cold %v, cached %v", cold, warm)
}
