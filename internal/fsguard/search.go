package fsguard

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/gathering"
)

// Search limits.
const (
	// DefaultSearchLimit is the number of matches Search returns when the
	// caller gives no limit.
	DefaultSearchLimit = 100
	// MaxSearchLimit is the most matches Search ever returns.
	MaxSearchLimit = 1000
	// maxSnippet bounds the length of Match.Text.
	maxSnippet = 200
)

// Match is one Search result: a file or directory whose name matches, or,
// when Search looks at contents, one matching line of a file.
type Match struct {
	Path  string `json:"path"`
	IsDir bool   `json:"is_dir,omitempty"`
	Line  int    `json:"line,omitempty"` // 1-based; 0 for a name match
	Text  string `json:"text,omitempty"` // the matching line, shortened
}

// Search walks directory dir ("" for the root) and returns up to limit
// matches (DefaultSearchLimit when limit <= 0, at most MaxSearchLimit).
// nameGlob, when not empty, is a path.Match pattern every result's base name
// must match. When contains is empty, matching files and directories are
// returned; otherwise each line of a matching file that contains it is.
// Secret-bearing names, symbolic links, non-UTF-8 (binary) files and files
// over MaxFileSize are skipped.
func (d *Dir) Search(dir, nameGlob, contains string, limit int) ([]Match, error) {
	clean, err := d.resolveDir(dir)
	if err != nil {
		return nil, err
	}
	if _, err := path.Match(nameGlob, ""); err != nil {
		return nil, gathering.Errorf(gathering.EINVALID, "Name pattern %q is malformed.", nameGlob)
	}
	s := &searcher{d: d, glob: nameGlob, needle: []byte(contains), limit: searchLimit(limit)}
	if err := s.walk(clean); err != nil {
		return nil, err
	}
	return s.out, nil
}

func searchLimit(limit int) int {
	if limit <= 0 {
		return DefaultSearchLimit
	}
	return min(limit, MaxSearchLimit)
}

// searcher holds one Search's state.
type searcher struct {
	d      *Dir
	glob   string
	needle []byte
	limit  int
	out    []Match
}

func (s *searcher) full() bool { return len(s.out) >= s.limit }

// walk visits directory clean depth-first, in name order.
func (s *searcher) walk(clean string) error {
	entries, err := s.d.readDir(clean)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if s.full() {
			return nil
		}
		if e.Type()&fs.ModeSymlink != 0 {
			continue
		}
		if err := s.visit(path.Join(clean, e.Name()), e); err != nil {
			return err
		}
	}
	return nil
}

// visit matches one entry and descends into directories.
func (s *searcher) visit(p string, e fs.DirEntry) error {
	nameOK := s.glob == ""
	if !nameOK {
		nameOK, _ = path.Match(s.glob, e.Name())
	}
	switch {
	case e.IsDir():
		if nameOK && len(s.needle) == 0 {
			s.out = append(s.out, Match{Path: p, IsDir: true})
		}
		return s.walk(p)
	case !nameOK || !e.Type().IsRegular():
		return nil
	case len(s.needle) == 0:
		s.out = append(s.out, Match{Path: p})
		return nil
	}
	s.grep(p)
	return nil
}

// grep appends the lines of file p that contain the needle. Unreadable,
// oversized and binary files are skipped.
func (s *searcher) grep(p string) {
	data, ok := s.readSmall(p)
	if !ok || !utf8.Valid(data) {
		return
	}
	for n := 1; len(data) > 0 && !s.full(); n++ {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		if bytes.Contains(line, s.needle) {
			s.out = append(s.out, Match{Path: p, Line: n, Text: snippet(line)})
		}
		data = rest
	}
}

// readSmall reads file p when it is a regular file within MaxFileSize.
func (s *searcher) readSmall(p string) ([]byte, bool) {
	f, err := s.d.root.Open(p)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	if checkRegular(p, f) != nil {
		return nil, false
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	return data, err == nil && len(data) <= MaxFileSize
}

// snippet shortens a line to maxSnippet bytes without splitting a rune.
func snippet(line []byte) string {
	line = bytes.TrimRight(line, "\r")
	if len(line) <= maxSnippet {
		return string(line)
	}
	cut := maxSnippet
	for cut > 0 && !utf8.RuneStart(line[cut]) {
		cut--
	}
	return string(line[:cut]) + "…"
}
