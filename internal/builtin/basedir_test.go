package builtin

import (
	"context"
	"os"
	"path/filepath"
	"regexp"

	"github.com/gathering/gathering/internal/gathering"
)

// BaseDir is the Workspaces of these tests: <base>/<project id>, created
// on demand (0o750). The server resolves projects with internal/workspace.
type BaseDir string

var projectIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Root validates projectID (1 to 64 characters of [A-Za-z0-9_-]) and
// returns the absolute path of its workspace, creating it when missing. A
// bad id is EINVALID with a FieldError on "project_id".
func (b BaseDir) Root(_ context.Context, projectID string) (string, error) {
	if !projectIDRE.MatchString(projectID) {
		msg := "must be 1 to 64 letters, digits, '_' or '-'"
		return "", gathering.Invalid("The project id is invalid.", gathering.FieldError{Field: "project_id", Message: msg})
	}
	if b == "" {
		return "", gathering.Errorf(gathering.EINTERNAL, "No workspace directory is configured.")
	}
	root, err := filepath.Abs(filepath.Join(string(b), projectID))
	if err == nil {
		err = os.MkdirAll(root, 0o750)
	}
	if err != nil {
		e := gathering.Errorf(gathering.EINTERNAL, "The workspace of project %q cannot be created.", projectID)
		e.Err = err
		return "", e
	}
	return root, nil
}
