package workspace

import (
	"context"
	"path"
	"slices"
	"time"

	"github.com/gathering/gathering/internal/fsguard"
	"github.com/gathering/gathering/internal/gathering"
)

// Limits and defaults of Tree and Info.
const (
	DefaultTreeDepth = 3
	MaxTreeDepth     = 20
	MaxTreeEntries   = 10_000
	MaxInfoEntries   = 100_000
)

// The types of a TreeEntry.
const (
	TypeFile = "file"
	TypeDir  = "dir"
)

// Tree is a project's files as Tree returns them.
type Tree struct {
	Entries   []TreeEntry `json:"entries"`
	Truncated bool        `json:"truncated"` // MaxTreeEntries reached; some entries are missing
}

// TreeEntry is one file or directory of a Tree.
type TreeEntry struct {
	Name     string    `json:"name"`
	Path     string    `json:"path"` // root-relative, slash-separated
	Type     string    `json:"type"` // TypeFile or TypeDir
	Size     int64     `json:"size"` // 0 for a directory
	Modified time.Time `json:"modified"`
	// Children of a directory, directories first, then by name; absent
	// beyond the depth limit, [] for an empty directory.
	Children []TreeEntry `json:"children,omitzero"`
	// GitStatus is the file's state in git when asked for and it has
	// changed: modified, added, deleted, renamed, copied, type_changed,
	// unmerged or untracked (the working tree's state wins over the
	// index's).
	GitStatus string `json:"git_status,omitempty"`
}

// Tree lists project projectID's files to maxDepth levels (0:
// DefaultTreeDepth; 1 to MaxTreeDepth, else EINVALID on "max_depth"), at
// most MaxTreeEntries of them. It leaves out what the root .gitignore
// ignores, .git, secret names, symbolic links and fsguard's temporary
// files. withGitStatus adds each file's git status when the root is a git
// repository. Trees are cached (see cache.go): a file created, removed or
// renamed, on disk or through the Service, shows on the next call; a file
// edited in place outside GatheRing may show its previous size, time and
// git status for up to five seconds.
func (s *Service) Tree(ctx context.Context, projectID string, maxDepth int, withGitStatus bool) (Tree, error) {
	if maxDepth == 0 {
		maxDepth = DefaultTreeDepth
	}
	if maxDepth < 1 || maxDepth > MaxTreeDepth {
		return Tree{}, gathering.Invalid("The tree depth is out of range.",
			gathering.FieldError{Field: "max_depth", Message: "must be between 1 and 20"})
	}
	root, err := s.Root(ctx, projectID)
	if err != nil {
		return Tree{}, err
	}
	key := treeKey{root: root, maxDepth: maxDepth, withGitStatus: withGitStatus}
	if t, ok := s.trees.get(key); ok {
		return t, nil
	}
	gen, start := s.trees.generation(), time.Now()
	stamps := stampAll(root, withGitStatus)
	t, err := walkTree(ctx, root, maxDepth, withGitStatus)
	if err != nil {
		return Tree{}, err
	}
	s.trees.walks.Add(1)
	s.trees.put(key, t, stamps, start, gen)
	return t, nil
}

// walkTree builds the tree of root. Git status runs after the listing, so
// that a file changed meanwhile differs from what the cache recorded.
func walkTree(ctx context.Context, root string, maxDepth int, withGitStatus bool) (Tree, error) {
	d, err := fsguard.Open(root)
	if err != nil {
		return Tree{}, err
	}
	defer d.Close()
	w := &treeWalker{d: d, maxDepth: maxDepth, left: MaxTreeEntries}
	if data, err := d.Read(".gitignore"); err == nil {
		w.ignore = parseIgnore(data)
	}
	entries, err := w.list(".", 1)
	if err != nil {
		return Tree{}, pathError(err)
	}
	if withGitStatus && isGitRepo(root) {
		status, err := gitStatus(ctx, root)
		if err != nil {
			return Tree{}, err
		}
		setStatus(entries, status)
	}
	return Tree{Entries: entries, Truncated: w.truncated}, nil
}

// setStatus gives every entry its status word, if any.
func setStatus(entries []TreeEntry, status map[string]string) {
	for i := range entries {
		entries[i].GitStatus = status[entries[i].Path]
		setStatus(entries[i].Children, status)
	}
}

// treeWalker builds a Tree.
type treeWalker struct {
	d         *fsguard.Dir
	ignore    ignorer
	maxDepth  int
	left      int // entries still allowed
	truncated bool
}

// list returns the entries of directory dir, at depth depth (1 for the
// root's entries).
func (w *treeWalker) list(dir string, depth int) ([]TreeEntry, error) {
	entries, err := w.d.List(dir)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(entries, func(a, b fsguard.Entry) int { return boolOrder(b.IsDir) - boolOrder(a.IsDir) })
	out := []TreeEntry{}
	for _, e := range entries {
		rel := path.Join(dir, e.Name)
		if e.Symlink || w.ignore.ignored(rel, e.IsDir) {
			continue
		}
		if w.left == 0 {
			w.truncated = true
			break
		}
		w.left--
		out = append(out, w.entry(rel, e, depth))
	}
	return out, nil
}

// entry describes one listed entry, with its children when it is a
// directory above the depth limit.
func (w *treeWalker) entry(rel string, e fsguard.Entry, depth int) TreeEntry {
	t := TreeEntry{Name: e.Name, Path: rel, Type: TypeFile, Size: e.Size, Modified: e.ModTime}
	if !e.IsDir {
		return t
	}
	t.Type, t.Size = TypeDir, 0
	if depth < w.maxDepth {
		// A directory removed or made unreadable meanwhile is shown empty.
		t.Children, _ = w.list(rel, depth+1)
	}
	return t
}

func boolOrder(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Info summarises a project's directory.
type Info struct {
	ProjectID int64  `json:"project_id"`
	Name      string `json:"name"`
	IsGitRepo bool   `json:"is_git_repo"` // the root has a .git directory
	FileCount int    `json:"file_count"`  // regular files, secret names and symbolic links excluded
	TotalSize int64  `json:"total_size"`  // their bytes
	Truncated bool   `json:"truncated"`   // MaxInfoEntries reached; the counts are lower bounds
}

// Info counts the files of project projectID, walking at most
// MaxInfoEntries entries.
func (s *Service) Info(ctx context.Context, projectID string) (Info, error) {
	p, root, err := s.project(ctx, projectID)
	if err != nil {
		return Info{}, err
	}
	d, err := fsguard.Open(root)
	if err != nil {
		return Info{}, err
	}
	defer d.Close()
	info := Info{ProjectID: p.ID, Name: p.Name, IsGitRepo: isGitRepo(root)}
	if err := count(ctx, d, &info, MaxInfoEntries); err != nil {
		return Info{}, err
	}
	return info, nil
}

// count walks d breadth-first, adding its files to info, for at most
// limit entries.
func count(ctx context.Context, d *fsguard.Dir, info *Info, limit int) error {
	queue, seen := []string{"."}, 0
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		dir := queue[0]
		queue = queue[1:]
		entries, _ := d.List(dir) // a directory removed meanwhile counts as empty
		for _, e := range entries {
			if seen == limit {
				info.Truncated = true
				return nil
			}
			seen++
			switch {
			case e.Symlink:
			case e.IsDir:
				queue = append(queue, path.Join(dir, e.Name))
			default:
				info.FileCount++
				info.TotalSize += e.Size
			}
		}
	}
	return nil
}
