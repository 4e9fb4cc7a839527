package workspace

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/http"
	"path"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/fsguard"
	"github.com/gathering/gathering/internal/gathering"
)

// File is a file of a project as Read and Write return it.
type File struct {
	Path     string    `json:"path"`               // root-relative, slash-separated, cleaned
	Content  string    `json:"content"`            // the text; "" when Binary
	Binary   bool      `json:"binary"`             // not UTF-8 text, or holds NUL bytes
	Encoding string    `json:"encoding,omitempty"` // "utf-8" for text
	MIME     string    `json:"mime"`               // by extension, else sniffed
	Lines    int       `json:"lines"`              // 0 when Binary
	Size     int64     `json:"size"`               // in bytes
	Modified time.Time `json:"modified"`
	Hash     string    `json:"hash"`              // sha256 of the bytes, hex; the ETag and If-Match value
	Created  bool      `json:"created,omitempty"` // Write: the file did not exist before
}

// Raw is a file's bytes for download; it is not served as JSON.
type Raw struct {
	Data        []byte
	ContentType string // by extension, else sniffed
	Modified    time.Time
	Size        int64
	Hash        string // as File.Hash
}

// Read returns file p of project projectID. Files over fsguard.MaxFileSize
// are ETOOLARGE, missing ones ENOTFOUND; refused paths EFORBIDDEN.
func (s *Service) Read(ctx context.Context, projectID, p string) (File, error) {
	clean, err := cleanPath(p)
	if err != nil {
		return File{}, err
	}
	return withDir(ctx, s, projectID, func(_ string, d *fsguard.Dir) (File, error) {
		data, err := d.Read(clean)
		if err != nil {
			return File{}, pathError(err)
		}
		return describe(d, clean, data)
	})
}

// Raw returns the bytes of file p of project projectID, with the same
// errors as Read.
func (s *Service) Raw(ctx context.Context, projectID, p string) (Raw, error) {
	clean, err := cleanPath(p)
	if err != nil {
		return Raw{}, err
	}
	return withDir(ctx, s, projectID, func(_ string, d *fsguard.Dir) (Raw, error) {
		data, err := d.Read(clean)
		if err != nil {
			return Raw{}, pathError(err)
		}
		e, err := stat(d, clean)
		if err != nil {
			return Raw{}, err
		}
		return Raw{Data: data, ContentType: contentType(clean, data), Modified: e.ModTime,
			Size: int64(len(data)), Hash: hash(data)}, nil
	})
}

// Write replaces (or creates, with its parent directories) file p of
// project projectID with content and returns the new file. When ifMatch is
// not "", the file must exist with that hash (ECONFLICT otherwise). With
// backup, the previous content is first copied to <p>.bak, or the first
// free <p>.bak.N. The file says whether it was Created.
func (s *Service) Write(ctx context.Context, projectID, p, content, ifMatch string, backup bool) (File, error) {
	clean, err := cleanPath(p)
	if err != nil {
		return File{}, err
	}
	return withDir(ctx, s, projectID, func(root string, d *fsguard.Dir) (File, error) {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
		defer s.trees.invalidate(root)
		if ifMatch != "" || backup {
			if err := keepPrevious(d, clean, ifMatch, backup); err != nil {
				return File{}, err
			}
		}
		_, err := stat(d, clean)
		created := gathering.ErrorCode(err) == gathering.ENOTFOUND
		data := []byte(content)
		if err := d.Write(clean, data); err != nil {
			return File{}, pathError(err)
		}
		f, err := describe(d, clean, data)
		f.Created = created
		return f, err
	})
}

// keepPrevious checks the current content of clean against ifMatch and,
// with backup, copies it to a backup file.
func keepPrevious(d *fsguard.Dir, clean, ifMatch string, backup bool) error {
	old, err := d.Read(clean)
	missing := gathering.ErrorCode(err) == gathering.ENOTFOUND
	switch {
	case missing && ifMatch != "":
		return mismatch("%q does not exist, so it cannot match If-Match %q.", clean, ifMatch)
	case missing:
		return nil
	case err != nil:
		return pathError(err)
	case ifMatch != "" && ifMatch != hash(old):
		return mismatch("%q has changed: its current hash is %s, not %s.", clean, hash(old), ifMatch)
	case !backup:
		return nil
	}
	name, err := backupName(d, clean)
	if err != nil {
		return err
	}
	return pathError(d.Write(name, old))
}

// mismatch is the ECONFLICT of a failed If-Match, on the field "if_match".
func mismatch(format string, args ...any) error {
	e := gathering.Errorf(gathering.ECONFLICT, format, args...)
	e.Fields = []gathering.FieldError{{Field: "if_match", Message: e.Message}}
	return e
}

// maxBackups bounds the numbered backups of one file.
const maxBackups = 100

// backupName returns the first of <clean>.bak, <clean>.bak.1, … that does
// not exist.
func backupName(d *fsguard.Dir, clean string) (string, error) {
	entries, err := d.List(path.Dir(clean))
	if err != nil {
		return "", pathError(err)
	}
	taken := make(map[string]bool, len(entries))
	for _, e := range entries {
		taken[e.Name] = true
	}
	name := path.Base(clean) + ".bak"
	for n := 1; taken[name]; n++ {
		if n == maxBackups {
			return "", gathering.Errorf(gathering.ECONFLICT, "%q has %d backups already; remove some first.", clean, maxBackups)
		}
		name = path.Base(clean) + ".bak." + strconv.Itoa(n)
	}
	return path.Join(path.Dir(clean), name), nil
}

// Delete removes file p, or empty directory p, of project projectID.
func (s *Service) Delete(ctx context.Context, projectID, p string) error {
	clean, err := cleanPath(p)
	if err != nil {
		return err
	}
	_, err = withDir(ctx, s, projectID, func(root string, d *fsguard.Dir) (struct{}, error) {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
		defer s.trees.invalidate(root)
		return struct{}{}, pathError(d.Delete(clean))
	})
	return err
}

// describe builds the File of clean, whose content is data.
func describe(d *fsguard.Dir, clean string, data []byte) (File, error) {
	e, err := stat(d, clean)
	if err != nil {
		return File{}, err
	}
	f := File{Path: clean, MIME: contentType(clean, data), Size: int64(len(data)), Modified: e.ModTime, Hash: hash(data)}
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		f.Binary = true
		return f, nil
	}
	f.Content, f.Encoding, f.Lines = string(data), "utf-8", countLines(data)
	return f, nil
}

// stat returns the directory entry of clean, listed through its parent.
func stat(d *fsguard.Dir, clean string) (fsguard.Entry, error) {
	entries, err := d.List(path.Dir(clean))
	if err != nil {
		return fsguard.Entry{}, pathError(err)
	}
	for _, e := range entries {
		if e.Name == path.Base(clean) {
			return e, nil
		}
	}
	return fsguard.Entry{}, pathError(gathering.Errorf(gathering.ENOTFOUND, "%q does not exist.", clean))
}

// countLines counts the lines of text, the last one with or without a
// newline.
func countLines(data []byte) int {
	n := bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n
}

// contentType names the media type of a file by its extension, else by
// sniffing its content.
func contentType(name string, data []byte) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return http.DetectContentType(data)
}

// hash is the sha256 of data, in hex.
func hash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
