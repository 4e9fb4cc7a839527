package fsguard

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// Entry describes one directory entry as List returns it.
type Entry struct {
	Name    string    `json:"name"`
	IsDir   bool      `json:"is_dir"`
	Symlink bool      `json:"symlink,omitempty"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
}

// List returns the entries of directory dir ("" or "." for the root),
// sorted by name, without secret-bearing names.
func (d *Dir) List(dir string) ([]Entry, error) {
	clean, err := d.resolveDir(dir)
	if err != nil {
		return nil, err
	}
	entries, err := d.readDir(clean)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(entries))
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, Entry{
			Name: e.Name(), IsDir: e.IsDir(), Symlink: info.Mode()&fs.ModeSymlink != 0,
			Size: info.Size(), ModTime: info.ModTime(),
		})
	}
	return out, nil
}

// readDir lists a clean directory path, dropping hidden names.
func (d *Dir) readDir(clean string) ([]fs.DirEntry, error) {
	f, err := d.root.Open(clean)
	if err != nil {
		return nil, fsError(clean, err)
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, fsError(clean, err)
	}
	kept := entries[:0]
	for _, e := range entries {
		if !hidden(e.Name()) {
			kept = append(kept, e)
		}
	}
	slices.SortFunc(kept, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return kept, nil
}

// hidden reports whether List and Search leave a name out.
func hidden(name string) bool {
	return IsSecretName(name) || strings.HasPrefix(name, tempPrefix)
}

// Read returns the contents of file p. Files over MaxFileSize are refused
// with ETOOLARGE before anything is read.
func (d *Dir) Read(p string) ([]byte, error) {
	clean, err := d.resolve(p)
	if err != nil {
		return nil, err
	}
	f, err := d.root.Open(clean)
	if err != nil {
		return nil, fsError(clean, err)
	}
	defer f.Close()
	if err := checkRegular(clean, f); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fsError(clean, err)
	}
	if len(data) > MaxFileSize {
		return nil, tooLarge(clean) // grew while being read
	}
	return data, nil
}

// checkRegular refuses an open file that is not a regular file or is larger
// than MaxFileSize.
func checkRegular(clean string, f *os.File) error {
	info, err := f.Stat()
	if err != nil {
		return fsError(clean, err)
	}
	if !info.Mode().IsRegular() {
		return gathering.Errorf(gathering.EINVALID, "%q is not a regular file.", clean)
	}
	if info.Size() > MaxFileSize {
		return tooLarge(clean)
	}
	return nil
}

func tooLarge(clean string) error {
	return gathering.Errorf(gathering.ETOOLARGE, "%q is larger than %d bytes.", clean, MaxFileSize)
}

// Write replaces (or creates) file p with data, creating missing parent
// directories. It writes a temporary file next to p and renames it into
// place, so readers never see a partial file. Data over MaxFileSize is
// refused with ETOOLARGE.
func (d *Dir) Write(p string, data []byte) error {
	if len(data) > MaxFileSize {
		return gathering.Errorf(gathering.ETOOLARGE, "Data is larger than %d bytes.", MaxFileSize)
	}
	clean, err := d.resolve(p)
	if err != nil {
		return err
	}
	if clean == "." {
		return gathering.Errorf(gathering.EINVALID, "Cannot write to the workspace root.")
	}
	perm, err := d.targetPerm(clean)
	if err != nil {
		return err
	}
	if err := d.mkdirParent(clean); err != nil {
		return err
	}
	return d.writeAtomic(clean, data, perm)
}

// targetPerm returns the permissions an existing file at clean has (0o644
// for a new one) and refuses a directory.
func (d *Dir) targetPerm(clean string) (fs.FileMode, error) {
	info, err := d.root.Lstat(clean)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0o644, nil
	case err != nil:
		return 0, fsError(clean, err)
	case !info.Mode().IsRegular():
		return 0, gathering.Errorf(gathering.EINVALID, "%q is not a regular file.", clean)
	}
	return info.Mode().Perm(), nil
}

// mkdirParent creates the parent directories of clean inside the root.
func (d *Dir) mkdirParent(clean string) error {
	parent := path.Dir(clean)
	if parent == "." {
		return nil
	}
	if err := d.root.MkdirAll(parent, 0o755); err != nil {
		return fsError(parent, err)
	}
	return nil
}

// writeAtomic writes data to a fresh temporary file in clean's directory and
// renames it over clean.
func (d *Dir) writeAtomic(clean string, data []byte, perm fs.FileMode) error {
	tmp := path.Join(path.Dir(clean), tempPrefix+randomSuffix())
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fsError(clean, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.root.Rename(tmp, clean)
	}
	if err != nil {
		_ = d.root.Remove(tmp)
		return fsError(clean, err)
	}
	return nil
}

func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Delete removes file p, or directory p when it is empty. The root itself
// cannot be deleted.
func (d *Dir) Delete(p string) error {
	clean, err := d.resolve(p)
	if err != nil {
		return err
	}
	if clean == "." {
		return gathering.Errorf(gathering.EFORBIDDEN, "Cannot delete the workspace root.")
	}
	if err := d.root.Remove(clean); err != nil {
		return fsError(clean, err)
	}
	return nil
}

// Move renames from to to, creating to's parent directories. It refuses to
// replace an existing to, and to move the root.
func (d *Dir) Move(from, to string) error {
	src, err := d.resolve(from)
	if err != nil {
		return err
	}
	dst, err := d.resolve(to)
	if err != nil {
		return err
	}
	if src == "." || dst == "." {
		return gathering.Errorf(gathering.EINVALID, "Cannot move the workspace root.")
	}
	if _, err := d.root.Lstat(src); err != nil {
		return fsError(src, err)
	}
	if _, err := d.root.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		return gathering.Errorf(gathering.ECONFLICT, "%q already exists.", dst)
	}
	if err := d.mkdirParent(dst); err != nil {
		return err
	}
	if err := d.root.Rename(src, dst); err != nil {
		return fsError(src, err)
	}
	return nil
}
