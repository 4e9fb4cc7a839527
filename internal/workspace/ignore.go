package workspace

import (
	"bytes"
	"path"
	"strings"
)

// ignoreRule is one pattern of a .gitignore.
type ignoreRule struct {
	pattern  string // without "!", leading "/" or trailing "/"
	negate   bool   // "!pattern": un-ignores
	dirOnly  bool   // "pattern/": directories only
	anchored bool   // has a "/" before its end: matched against the whole path
}

// ignorer is the rules of the root .gitignore, in order; the last one
// that matches decides.
type ignorer []ignoreRule

// parseIgnore reads a .gitignore: blank lines and "#" comments are
// skipped; a pattern is a path.Match glob, matched against the base name
// unless it contains a "/" (then against the root-relative path; a
// leading "**/" makes it unanchored again).
func parseIgnore(data []byte) ignorer {
	var rules ignorer
	for line := range bytes.Lines(data) {
		s := strings.TrimRight(string(line), "\r\n\t ")
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		var r ignoreRule
		s, r.negate = strings.CutPrefix(s, "!")
		s, r.dirOnly = strings.CutSuffix(s, "/")
		s = strings.TrimPrefix(s, "**/")
		r.anchored = strings.Contains(s, "/")
		r.pattern = strings.TrimPrefix(s, "/")
		if r.pattern != "" {
			rules = append(rules, r)
		}
	}
	return rules
}

// ignored reports whether the root-relative path rel is ignored.
func (ig ignorer) ignored(rel string, isDir bool) bool {
	ignored := false
	for _, r := range ig {
		if (isDir || !r.dirOnly) && r.matches(rel) {
			ignored = !r.negate
		}
	}
	return ignored
}

func (r ignoreRule) matches(rel string) bool {
	name := rel
	if !r.anchored {
		name = path.Base(rel)
	}
	ok, _ := path.Match(r.pattern, name)
	return ok
}
