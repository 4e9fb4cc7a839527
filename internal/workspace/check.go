package workspace

import (
	"os"
	"path/filepath"

	"github.com/gathering/gathering/internal/gathering"
)

// CheckRepositoryPath validates a project's repository path for create and
// update, and returns what is wrong with it on the field "repository_path"
// (nil when it is fine; "" is fine and means the project's own directory).
// The path must be absolute and name an existing directory (after
// resolving symbolic links) inside the workspace base unless
// outsideBaseAllowed; it must never be "/", contain the server's working
// directory or the workspace base, or lie in another project's own
// directory.
func (s *Service) CheckRepositoryPath(path string, outsideBaseAllowed bool) []gathering.FieldError {
	if path == "" {
		return nil
	}
	if msg := s.repositoryPathProblem(path, outsideBaseAllowed); msg != "" {
		return []gathering.FieldError{{Field: "repository_path", Message: msg}}
	}
	return nil
}

// repositoryPathProblem is CheckRepositoryPath's one message, or "".
func (s *Service) repositoryPathProblem(path string, outsideBaseAllowed bool) string {
	if !filepath.IsAbs(path) {
		return "must be an absolute path"
	}
	dir, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "does not exist"
	}
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return "must be a directory"
	}
	if why := s.refusal(dir, 0); why != "" {
		return "is not allowed: it " + why
	}
	if !outsideBaseAllowed && (s.base == "" || !within(dir, resolved(s.base))) {
		return "must lie inside the workspace base directory"
	}
	return ""
}
