package workspace

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Projects loads projects; store.ProjectStore satisfies it.
type Projects interface {
	ProjectGet(ctx context.Context, id int64) (store.Project, error)
}

// Service resolves projects to their directories and runs file operations
// in them. It is safe for concurrent use.
type Service struct {
	projects Projects
	base     string // absolute; "" when none is configured
	cwd      string // the server's working directory, symlinks resolved; "" when unknown
	// writeMu serialises Write and Delete, so that an If-Match check and
	// the write it guards are not interleaved with another change made
	// through this Service.
	writeMu sync.Mutex
	trees   *treeCache
}

// New returns a Service over projects whose own directories live under
// base (the configured workspace base directory, made absolute here; ""
// leaves projects without a repository path unresolvable).
func New(projects Projects, base string) *Service {
	s := &Service{projects: projects, trees: newTreeCache(treeCacheSize)}
	if base != "" {
		s.base, _ = filepath.Abs(base)
	}
	if wd, err := os.Getwd(); err == nil {
		s.cwd = resolved(wd)
	}
	return s
}

// Root returns the absolute directory of project projectID (a positive
// integer; EINVALID on the field "project_id" otherwise): its repository
// path, or <base>/<id> created on demand. ENOTFOUND for an unknown project
// or a repository path that no longer exists, EFORBIDDEN for a directory
// that is "/", contains the server's working directory or the workspace
// base, or is another project's own directory. Root satisfies
// builtin.Workspaces.
func (s *Service) Root(ctx context.Context, projectID string) (string, error) {
	_, root, err := s.project(ctx, projectID)
	return root, err
}

// project loads a project and resolves its root.
func (s *Service) project(ctx context.Context, projectID string) (store.Project, string, error) {
	id, err := parseID(projectID)
	if err != nil {
		return store.Project{}, "", err
	}
	p, err := s.projects.ProjectGet(ctx, id)
	if err != nil {
		return store.Project{}, "", err
	}
	dir := p.RepositoryPath
	if dir == "" {
		if dir, err = s.ownDir(id); err != nil {
			return store.Project{}, "", err
		}
	}
	root, err := s.confine(dir, id)
	return p, root, err
}

// parseID parses a project id written as a positive decimal integer
// without sign or leading zeros.
func parseID(projectID string) (int64, error) {
	id, err := strconv.ParseInt(projectID, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != projectID {
		return 0, gathering.Invalid("The project id is invalid.",
			gathering.FieldError{Field: "project_id", Message: "must be a positive integer"})
	}
	return id, nil
}

// ownDir returns <base>/<id>, creating it when missing.
func (s *Service) ownDir(id int64) (string, error) {
	if s.base == "" {
		return "", gathering.Errorf(gathering.EINTERNAL, "No workspace directory is configured.")
	}
	dir := filepath.Join(s.base, strconv.FormatInt(id, 10))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		e := gathering.Errorf(gathering.EINTERNAL, "The directory of project %d cannot be created.", id)
		e.Err = err
		return "", e
	}
	return dir, nil
}

// confine resolves the symbolic links of project id's directory and
// refuses it when it is missing, not a directory, or not allowed.
func (s *Service) confine(dir string, id int64) (string, error) {
	if !filepath.IsAbs(dir) {
		return "", gathering.Errorf(gathering.EFORBIDDEN, "The directory of project %d is not an absolute path.", id)
	}
	resolvedDir, err := filepath.EvalSymlinks(dir)
	if err == nil {
		var info os.FileInfo
		if info, err = os.Stat(resolvedDir); err == nil && !info.IsDir() {
			err = os.ErrNotExist
		}
	}
	if err != nil {
		e := gathering.Errorf(gathering.ENOTFOUND, "The directory of project %d does not exist.", id)
		e.Err = err
		return "", e
	}
	if why := s.refusal(resolvedDir, id); why != "" {
		return "", gathering.Errorf(gathering.EFORBIDDEN, "The directory of project %d is not allowed: it %s.", id, why)
	}
	return resolvedDir, nil
}

// refusal says why resolvedDir (absolute, symlinks resolved) may not be the root
// of project id (0: of any project), or "" when it may.
func (s *Service) refusal(resolvedDir string, id int64) string {
	base := resolved(s.base)
	switch {
	case resolvedDir == string(filepath.Separator):
		return "is the file system root"
	case s.cwd != "" && within(s.cwd, resolvedDir):
		return "is or contains the server's working directory"
	case s.base != "" && within(base, resolvedDir):
		return "is or contains the workspace base directory"
	}
	if owner, ok := ownDirOwner(base, resolvedDir); ok && owner != strconv.FormatInt(id, 10) {
		return "is inside another project's own directory"
	}
	return ""
}

// ownDirOwner reports whether resolvedDir lies in a project's own directory under
// base (<base>/<digits>), and whose.
func ownDirOwner(base, resolvedDir string) (string, bool) {
	if base == "" || !within(resolvedDir, base) || resolvedDir == base {
		return "", false
	}
	rel, _ := filepath.Rel(base, resolvedDir)
	first, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
	_, err := strconv.ParseInt(first, 10, 64)
	return first, err == nil
}

// within reports whether path p is dir or lies inside it; both are clean
// and absolute.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// resolved returns p with its symbolic links resolved when it exists, else
// p cleaned.
func resolved(p string) string {
	if p == "" {
		return ""
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return filepath.Clean(p)
}
