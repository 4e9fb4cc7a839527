package workspace

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// The tree cache keeps the latest trees Tree built, at most treeCacheSize
// of them, the least recently used evicted first. A cached tree is served
// only while it is younger than treeMaxAge and a cheap check finds that
// nothing it depends on has changed:
//
//   - every directory of the tree is stat'ed again (lstat, no reading) and
//     must still have the modification time the tree shows. Creating,
//     removing or renaming a file or directory changes its parent's
//     modification time, so such a change made outside GatheRing shows on
//     the next request.
//   - the root directory and its .gitignore are stat'ed too, and with git
//     status .git, its index, HEAD, the ref HEAD names, packed-refs and
//     info/exclude: staging, committing or switching branches changes one
//     of them. These stamps are taken before the walk, and git status runs
//     after the listing, so that a change made during the walk always
//     shows as a difference.
//   - a tree is not cached when a directory or stamp it is checked against
//     changed less than racyWindow before the walk started: a second change
//     in the same clock tick of a coarse file system would leave the
//     modification time as it was (git's "racily clean" problem).
//
// Files are not stat'ed: measured on a 2-core VM with 9,900 files, a
// check that stat'ed every entry took 49 ms against 46 ms for listing
// afresh (syscalls dominate both), where stat'ing the 100 directories
// takes 2 ms. So a file edited in place outside GatheRing (not replaced
// through a rename, as fsguard and many editors do) keeps its old size,
// modification time and git status in the tree for at most treeMaxAge.
//
// Writes and deletes through the Service drop the trees of the project at
// once (and of any project whose directory contains or lies in it), and a
// walk that overlapped such a write is not stored.
const (
	treeCacheSize = 64
	treeMaxAge    = 5 * time.Second
	racyWindow    = 2 * time.Second // FAT's granularity, the coarsest in common use
)

// treeKey names one cached tree.
type treeKey struct {
	root          string
	maxDepth      int
	withGitStatus bool
}

// cachedTree is a tree with the stamps it was built under.
type cachedTree struct {
	tree   Tree
	stamps []stamp
	built  time.Time // when the walk started
}

// stamp is what lstat said of one root-relative path.
type stamp struct {
	path   string
	exists bool
	size   int64
	mod    time.Time
}

// treeCache is the bounded tree cache. It is safe for concurrent use.
type treeCache struct {
	mu  sync.Mutex
	lru *simplelru.LRU[treeKey, *cachedTree]
	gen uint64 // incremented by every invalidation
	// walks counts the trees built, for tests.
	walks atomic.Int64
}

// newTreeCache returns a cache of at most size trees.
func newTreeCache(size int) *treeCache {
	lru, err := simplelru.NewLRU[treeKey, *cachedTree](size, nil)
	if err != nil {
		panic(err) // size is a positive constant
	}
	return &treeCache{lru: lru}
}

// get returns a copy of the tree cached under key when it is still valid.
// The check runs outside the lock.
func (c *treeCache) get(key treeKey) (Tree, bool) {
	c.mu.Lock()
	ct, ok := c.lru.Get(key)
	c.mu.Unlock()
	if !ok {
		return Tree{}, false
	}
	if !ct.valid(key, time.Now()) {
		c.mu.Lock()
		if cur, ok := c.lru.Peek(key); ok && cur == ct {
			c.lru.Remove(key)
		}
		c.mu.Unlock()
		return Tree{}, false
	}
	return Tree{Entries: cloneEntries(ct.tree.Entries), Truncated: ct.tree.Truncated}, true
}

// generation returns the invalidation count, to pass to put.
func (c *treeCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put stores a tree built since time start under stamps, unless an
// invalidation happened after generation returned gen or the tree is racy.
func (c *treeCache) put(key treeKey, t Tree, stamps []stamp, start time.Time, gen uint64) {
	if racy(t.Entries, stamps, start.Add(-racyWindow)) {
		return
	}
	ct := &cachedTree{tree: Tree{Entries: cloneEntries(t.Entries), Truncated: t.Truncated}, stamps: stamps, built: start}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.lru.Add(key, ct)
	}
}

// invalidate drops the trees of root and of every root that contains it
// or lies in it.
func (c *treeCache) invalidate(root string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, k := range c.lru.Keys() {
		if within(k.root, root) || within(root, k.root) {
			c.lru.Remove(k)
		}
	}
}

// valid reports whether ct is younger than treeMaxAge at now and nothing
// it depends on has changed on disk.
func (ct *cachedTree) valid(key treeKey, now time.Time) bool {
	return now.Sub(ct.built) < treeMaxAge &&
		slices.EqualFunc(ct.stamps, stampAll(key.root, key.withGitStatus), sameStamp) &&
		dirsUnchanged(key.root, ct.tree.Entries)
}

// dirsUnchanged reports whether every directory among entries is still a
// directory with the modification time recorded. It lstats plain paths,
// not through fsguard: nothing it learns is shown, and any surprise (a
// directory replaced by a link) only makes the tree be listed again.
func dirsUnchanged(root string, entries []TreeEntry) bool {
	for _, e := range entries {
		if e.Type != TypeDir {
			continue
		}
		info, err := os.Lstat(filepath.Join(root, filepath.FromSlash(e.Path)))
		if err != nil || !info.IsDir() || !info.ModTime().Equal(e.Modified) || !dirsUnchanged(root, e.Children) {
			return false
		}
	}
	return true
}

// racy reports whether a stamp or a directory among entries was modified
// after since.
func racy(entries []TreeEntry, stamps []stamp, since time.Time) bool {
	for _, s := range stamps {
		if s.mod.After(since) {
			return true
		}
	}
	for _, e := range entries {
		if e.Type == TypeDir && (e.Modified.After(since) || racy(e.Children, nil, since)) {
			return true
		}
	}
	return false
}

// stampAll stamps the paths outside the tree that a tree of root depends
// on.
func stampAll(root string, withGitStatus bool) []stamp {
	paths := []string{".", ".gitignore"}
	if withGitStatus {
		paths = append(paths, ".git", ".git/index", ".git/HEAD", ".git/packed-refs", ".git/info/exclude")
		if ref := headRef(root); ref != "" {
			paths = append(paths, ".git/"+ref)
		}
	}
	stamps := make([]stamp, len(paths))
	for i, p := range paths {
		stamps[i] = stampOf(root, p)
	}
	return stamps
}

// stampOf lstats root-relative path p.
func stampOf(root, p string) stamp {
	info, err := os.Lstat(filepath.Join(root, filepath.FromSlash(p)))
	if err != nil {
		return stamp{path: p}
	}
	return stamp{path: p, exists: true, size: info.Size(), mod: info.ModTime()}
}

// headRef returns the ref .git/HEAD names ("refs/heads/main"), or "" when
// it is detached, unreadable or names something outside refs/.
func headRef(root string) string {
	data, err := os.ReadFile(filepath.Join(root, ".git", "HEAD"))
	if err != nil {
		return ""
	}
	ref, ok := strings.CutPrefix(string(bytes.TrimSpace(data)), "ref: ")
	if !ok || !strings.HasPrefix(ref, "refs/") || !filepath.IsLocal(ref) {
		return ""
	}
	return ref
}

// sameStamp reports whether two stamps of a path agree.
func sameStamp(a, b stamp) bool {
	return a.path == b.path && a.exists == b.exists && a.size == b.size && a.mod.Equal(b.mod)
}

// cloneEntries copies entries and their children, so that no caller can
// change a cached tree.
func cloneEntries(entries []TreeEntry) []TreeEntry {
	out := slices.Clone(entries)
	for i := range out {
		out[i].Children = cloneEntries(out[i].Children)
	}
	return out
}
