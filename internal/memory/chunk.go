package memory

import (
	"strings"
	"unicode"
)

// Chunking defaults, in characters (runes).
const (
	DefaultChunkSize    = 2000
	DefaultChunkOverlap = 200
)

// Chunk cuts text into pieces of at most size characters (runes, not
// bytes), each starting overlap characters before the previous one ended,
// so a sentence cut in two is whole in one of them. It cuts where the text
// breaks best within the last fifth of each window: after a blank line
// (paragraph), else after a sentence end, else at a space, else at the
// window's end. The next piece starts at a word's beginning inside the
// overlap. Pieces are trimmed and never empty; text of size characters or
// fewer is one piece, and blank text none.
//
// size ≤ 0 means DefaultChunkSize and overlap < 0 DefaultChunkOverlap; the
// overlap is capped at half the size so every window moves on. Line endings
// are normalised to "\n".
func Chunk(text string, size, overlap int) []string {
	if size <= 0 {
		size = DefaultChunkSize
	}
	if overlap < 0 {
		overlap = DefaultChunkOverlap
	}
	overlap = min(overlap, size/2)
	rs := []rune(strings.ReplaceAll(text, "\r\n", "\n"))
	var out []string
	for start := 0; start < len(rs); {
		end := start + size
		if end >= len(rs) {
			return appendChunk(out, rs[start:])
		}
		end = cutAt(rs, start, end)
		out = appendChunk(out, rs[start:end])
		start = wordStart(rs, end-overlap, end)
	}
	return out
}

// appendChunk appends the trimmed piece unless it is blank.
func appendChunk(out []string, piece []rune) []string {
	if s := strings.TrimSpace(string(piece)); s != "" {
		return append(out, s)
	}
	return out
}

// cutAt picks where the window rs[start:end] ends: the best break in its
// last fifth.
func cutAt(rs []rune, start, end int) int {
	lo := max(end-(end-start)/5, start+1)
	for _, breaks := range []func(rs []rune, i int) bool{paragraphBreak, sentenceBreak, spaceBreak} {
		for i := end; i >= lo; i-- {
			if breaks(rs, i) {
				return i
			}
		}
	}
	return end
}

// paragraphBreak reports whether rs[:i] ends with a blank line.
func paragraphBreak(rs []rune, i int) bool {
	return i >= 2 && rs[i-1] == '\n' && rs[i-2] == '\n'
}

// sentenceBreak reports whether rs[:i] ends a sentence: a full stop,
// question or exclamation mark followed by a space (or an ideographic one).
func sentenceBreak(rs []rune, i int) bool {
	if i < 1 || i >= len(rs) {
		return false
	}
	switch rs[i-1] {
	case '。', '！', '？':
		return true
	case '.', '!', '?':
		return unicode.IsSpace(rs[i])
	}
	return false
}

// spaceBreak reports whether rs[i] is a space.
func spaceBreak(rs []rune, i int) bool { return i < len(rs) && unicode.IsSpace(rs[i]) }

// wordStart returns the first position in [from, limit) where a word
// begins, or from when there is none (a single long word).
func wordStart(rs []rune, from, limit int) int {
	for i := from; i < limit; i++ {
		if (i == 0 || unicode.IsSpace(rs[i-1])) && !unicode.IsSpace(rs[i]) {
			return i
		}
	}
	return from
}
