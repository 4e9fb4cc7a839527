package fsguard

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/gathering/gathering/internal/gathering"
)

// MaxFileSize is the largest file, in bytes, that Read, Write and Search
// will touch.
const MaxFileSize = 10 << 20

// tempPrefix starts the name of Write's temporary files; List and Search
// hide them.
const tempPrefix = ".gathering-tmp-"

// Dir is a directory tree that every operation is confined to. It is safe
// for concurrent use.
type Dir struct {
	root *os.Root
}

// Open confines operations to the directory at path, which must exist.
func Open(path string) (*Dir, error) {
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, &gathering.Error{Code: gathering.ENOTFOUND, Message: "Workspace directory cannot be opened.", Err: err}
	}
	return &Dir{root: root}, nil
}

// Close releases the directory. Operations after Close fail.
func (d *Dir) Close() error { return d.root.Close() }

// resolve cleans p with CleanPath and refuses it when any existing component
// is a symbolic link.
func (d *Dir) resolve(p string) (string, error) {
	clean, err := CleanPath(p)
	if err != nil {
		return "", err
	}
	return clean, d.refuseSymlinks(clean)
}

// resolveDir is resolve for directory arguments, where "" means the root.
func (d *Dir) resolveDir(p string) (string, error) {
	if p == "" {
		p = "."
	}
	return d.resolve(p)
}

// refuseSymlinks walks the components of a clean path and fails on the first
// one that is a symbolic link; it stops at the first one that does not exist.
func (d *Dir) refuseSymlinks(clean string) error {
	if clean == "." {
		return nil
	}
	end := 0
	for end < len(clean) {
		next := strings.IndexByte(clean[end+1:], '/')
		if next < 0 {
			end = len(clean)
		} else {
			end += 1 + next
		}
		info, err := d.root.Lstat(clean[:end])
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fsError(clean, err)
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			return gathering.Errorf(gathering.EFORBIDDEN, "Path %q goes through a symbolic link.", clean[:end])
		}
	}
	return nil
}

// fsError turns an error from the file system into a *gathering.Error whose
// message names only the root-relative path.
func fsError(p string, err error) error {
	code, msg := gathering.EINTERNAL, "File operation on %q failed."
	switch {
	case errors.Is(err, fs.ErrNotExist):
		code, msg = gathering.ENOTFOUND, "%q does not exist."
	case errors.Is(err, fs.ErrExist):
		code, msg = gathering.ECONFLICT, "%q already exists."
	case errors.Is(err, syscall.ENOTEMPTY):
		code, msg = gathering.ECONFLICT, "Directory %q is not empty."
	case errors.Is(err, syscall.ENOTDIR):
		code, msg = gathering.EINVALID, "A component of %q is not a directory."
	case errors.Is(err, syscall.EISDIR):
		code, msg = gathering.EINVALID, "%q is a directory."
	case errors.Is(err, fs.ErrPermission):
		code, msg = gathering.EFORBIDDEN, "Permission denied for %q."
	case strings.Contains(err.Error(), "path escapes"):
		code, msg = gathering.EFORBIDDEN, "%q escapes the workspace."
	}
	e := gathering.Errorf(code, msg, p)
	e.Err = err
	return e
}
