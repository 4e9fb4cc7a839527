package memory

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkChunks checks the invariants every chunking keeps: no piece empty or
// untrimmed, none longer than size runes, and every word of the text (short
// enough not to be cut) in some piece.
func checkChunks(t *testing.T, text string, size int, pieces []string) {
	t.Helper()
	all := strings.Join(pieces, "\n")
	for i, p := range pieces {
		if p == "" || p != strings.TrimSpace(p) {
			t.Fatalf("piece %d is empty or untrimmed: %q", i, p)
		}
		if n := utf8.RuneCountInString(p); n > size {
			t.Fatalf("piece %d has %d runes, more than %d", i, n, size)
		}
	}
	for _, w := range strings.Fields(text) {
		if utf8.RuneCountInString(w) < size/5 && !strings.Contains(all, w) {
			t.Fatalf("word %q is in no piece", w)
		}
	}
}

func TestChunkShortAndBlank(t *testing.T) {
	t.Parallel()
	if got := Chunk("  A short note.\n", 0, -1); len(got) != 1 || got[0] != "A short note." {
		t.Fatalf("short text: %q", got)
	}
	for _, blank := range []string{"", " \n\n\t "} {
		if got := Chunk(blank, 10, 2); len(got) != 0 {
			t.Fatalf("blank text %q: %q", blank, got)
		}
	}
	exact := strings.Repeat("x", 50)
	if got := Chunk(exact, 50, 10); len(got) != 1 {
		t.Fatalf("text of exactly size: %d pieces", len(got))
	}
}

func TestChunkDefaults(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 200) // 11,400 runes
	pieces := Chunk(text, 0, -1)
	checkChunks(t, text, DefaultChunkSize, pieces)
	if len(pieces) < 6 || len(pieces) > 7 {
		t.Fatalf("%d pieces of %d runes with the defaults", len(pieces), len(text))
	}
	for _, p := range pieces[:len(pieces)-1] {
		if n := len(p); n < DefaultChunkSize*4/5-1 {
			t.Fatalf("a piece of %d runes: cut before the last fifth", n)
		}
	}
	// Each piece but the first starts with text that ended the previous one.
	for i := 1; i < len(pieces); i++ {
		head := pieces[i][:100]
		if !strings.Contains(pieces[i-1][len(pieces[i-1])-DefaultChunkOverlap-10:], head) {
			t.Fatalf("piece %d does not overlap the previous one", i)
		}
	}
}

func TestChunkPrefersParagraphsThenSentencesThenSpaces(t *testing.T) {
	t.Parallel()
	para := strings.Repeat("word ", 16) + "end.\n\n" + strings.Repeat("next ", 10) // break at rune 86
	if got := Chunk(para, 100, 0); !strings.HasSuffix(got[0], "end.") || !strings.HasPrefix(got[1], "next") {
		t.Fatalf("paragraph: %q", got)
	}
	sent := strings.Repeat("word ", 16) + "end. Then " + strings.Repeat("more ", 10)
	if got := Chunk(sent, 100, 0); !strings.HasSuffix(got[0], "end.") || !strings.HasPrefix(got[1], "Then") {
		t.Fatalf("sentence: %q", got)
	}
	// A paragraph break wins over a later sentence end in the same fifth.
	both := strings.Repeat("word ", 16) + "a.\n\nb. c. " + strings.Repeat("more ", 10)
	if got := Chunk(both, 100, 0); !strings.HasSuffix(got[0], "a.") {
		t.Fatalf("paragraph over sentence: %q", got)
	}
	// A break earlier than the last fifth is not taken: cut at a space.
	early := "Early.\n\n" + strings.Repeat("word ", 40)
	if got := Chunk(early, 100, 0); len([]rune(got[0])) < 80 {
		t.Fatalf("early break taken: %q", got[0])
	}
	// No break at all: cut at the window's end.
	solid := strings.Repeat("x", 250)
	got := Chunk(solid, 100, 0)
	if len(got) != 3 || len(got[0]) != 100 || len(got[2]) != 50 {
		t.Fatalf("unbroken text: %d pieces", len(got))
	}
	checkChunks(t, solid, 100, got)
}

func TestChunkOverlapStartsAtAWord(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("alpha beta gamma delta ", 30)
	pieces := Chunk(text, 120, 30)
	checkChunks(t, text, 120, pieces)
	for i, p := range pieces {
		if first := strings.Fields(p)[0]; !slices.Contains([]string{"alpha", "beta", "gamma", "delta"}, first) {
			t.Fatalf("piece %d starts mid-word: %q", i, p[:20])
		}
	}
	if len(pieces) < 7 {
		t.Fatalf("%d pieces: the overlap is missing", len(pieces))
	}
}

func TestChunkCountsRunes(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("日本語のテキストです。", 30) // 330 runes, 990 bytes
	pieces := Chunk(text, 100, 10)
	checkChunks(t, text, 100, pieces)
	if len(pieces) != 4 {
		t.Fatalf("%d pieces of %d runes at 100 each with 10 overlap", len(pieces), utf8.RuneCountInString(text))
	}
	for _, p := range pieces[:len(pieces)-1] {
		if !strings.HasSuffix(p, "。") {
			t.Fatalf("not cut after an ideographic full stop: %q", p)
		}
	}
}

func TestChunkOverlapCapped(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("abc ", 100)
	pieces := Chunk(text, 40, 1000) // overlap capped at 20: still moves on
	checkChunks(t, text, 40, pieces)
	if len(pieces) > 25 {
		t.Fatalf("%d pieces", len(pieces))
	}
}

func TestChunkNormalisesLineEndings(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("word ", 16) + "end.\r\n\r\n" + strings.Repeat("next ", 10)
	got := Chunk(text, 100, 0)
	if strings.Contains(strings.Join(got, ""), "\r") || !strings.HasSuffix(got[0], "end.") {
		t.Fatalf("%q", got)
	}
}
