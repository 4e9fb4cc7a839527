package memory

import (
	"context"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// DefaultDimension is the dimension of a LocalEmbedder made with none.
const DefaultDimension = 384

// Feature weights of the LocalEmbedder. A word counts fully; a pair of
// adjacent words a little less; each character 3-gram half (a word has
// several, so together they still weigh more than the word itself, which is
// what makes "gardening" close to "garden" and to "gardnening"); stopwords
// and one-rune words a tenth, and they add no 3-grams.
const (
	wordWeight   = 1.0
	bigramWeight = 0.7
	gramWeight   = 0.5
	stopWeight   = 0.1
)

// Feature kinds, hashed first so a word and a 3-gram never share a feature.
const (
	kindWord byte = iota + 1
	kindBigram
	kindGram
)

// LocalEmbedder is the default embedder: it works offline, needs no model
// and no corpus, and is fast (tens of microseconds per sentence).
//
// It hashes the features of a text into a fixed number of buckets: the
// lower-cased words (runs of Unicode letters, marks and digits), each pair
// of adjacent words, and the character 3-grams of each word padded with
// boundary marks. Each feature lands in a bucket chosen by a 64-bit FNV-1a
// hash, added or subtracted by a sign bit of the same hash so collisions
// tend to cancel rather than pile up, weighted by sublinear term frequency
// (1 + ln tf) times the feature's weight (English stopwords count a tenth,
// 3-grams half). The vector is L2-normalised. The hash has no random seed,
// so a text gets the same vector in every process and on every machine.
//
// What that buys is lexical similarity: texts that share words score high,
// and the 3-grams give some robustness to inflection ("databases" and
// "database"), compounds and typos. It knows nothing of meaning: synonyms
// ("car" and "automobile") and paraphrases with no words in common score
// near zero, and a text in another language matches only through shared
// strings. Use a ProviderEmbedder when that matters.
type LocalEmbedder struct{ dim int }

// NewLocal returns a LocalEmbedder of dim dimensions; dim ≤ 0 means
// DefaultDimension.
func NewLocal(dim int) *LocalEmbedder {
	if dim <= 0 {
		dim = DefaultDimension
	}
	return &LocalEmbedder{dim: dim}
}

// Name is "local-ngram-<dimension>".
func (e *LocalEmbedder) Name() string { return "local-ngram-" + strconv.Itoa(e.dim) }

// Dimension is the length of the vectors.
func (e *LocalEmbedder) Dimension() int { return e.dim }

// Embed returns one unit vector per text; a text without a word gets a zero
// vector.
func (e *LocalEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	b := newBag()
	for i, t := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b.reset()
		b.addText(t)
		out[i] = b.vector(e.dim)
	}
	return out, nil
}

// feature is one hashed feature of a text.
type feature struct {
	hash   uint64
	tf     int
	weight float64
}

// bag collects the features of one text. It keeps them in the order first
// seen so the sums, and so the vectors, are the same on every run.
type bag struct {
	index map[uint64]int // hash → position in feats
	feats []feature
	runes []rune // scratch for 3-grams
}

func newBag() *bag { return &bag{index: make(map[uint64]int)} }

func (b *bag) reset() {
	clear(b.index)
	b.feats = b.feats[:0]
}

// add counts one occurrence of the feature hashed to h.
func (b *bag) add(h uint64, weight float64) {
	if i, ok := b.index[h]; ok {
		b.feats[i].tf++
		return
	}
	b.index[h] = len(b.feats)
	b.feats = append(b.feats, feature{hash: h, tf: 1, weight: weight})
}

// addText adds the words, word pairs and 3-grams of text.
func (b *bag) addText(text string) {
	prev, prevWeight := "", 0.0
	for _, w := range words(text) {
		ww := wordWeightOf(w)
		b.add(hashWord(w), ww)
		if prev != "" {
			b.add(hashPair(prev, w), bigramWeight*min(ww, prevWeight))
		}
		if ww == wordWeight {
			b.addGrams(w)
		}
		prev, prevWeight = w, ww
	}
}

// addGrams adds the character 3-grams of "<w>".
func (b *bag) addGrams(w string) {
	b.runes = append(b.runes[:0], '<')
	for _, r := range w {
		b.runes = append(b.runes, r)
	}
	b.runes = append(b.runes, '>')
	for i := 0; i+3 <= len(b.runes); i++ {
		b.add(hashRunes(b.runes[i:i+3]), gramWeight)
	}
}

// vector folds the features into dim signed buckets and normalises.
func (b *bag) vector(dim int) []float32 {
	acc := make([]float64, dim)
	for _, f := range b.feats {
		x := f.weight * (1 + math.Log(float64(f.tf)))
		if f.hash>>63 == 1 {
			x = -x
		}
		acc[f.hash%uint64(dim)] += x
	}
	v := make([]float32, dim)
	for i, x := range acc {
		v[i] = float32(x)
	}
	normalize(v)
	return v
}

// words splits text into lower-cased words: runs of letters, marks and
// digits.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	})
}

// wordWeightOf is the weight of a word: low for stopwords and one-rune
// words, full otherwise.
func wordWeightOf(w string) float64 {
	if stopwords[w] || len([]rune(w)) == 1 {
		return stopWeight
	}
	return wordWeight
}

// stopwords are common English function words: they say little about what
// a text is about. Negations are left out on purpose.
var stopwords = map[string]bool{
	"a": true, "about": true, "all": true, "also": true, "am": true, "an": true,
	"and": true, "any": true, "are": true, "as": true, "at": true, "be": true,
	"been": true, "being": true, "but": true, "by": true, "can": true, "could": true,
	"did": true, "do": true, "does": true, "for": true, "from": true, "had": true,
	"has": true, "have": true, "he": true, "her": true, "here": true, "him": true,
	"his": true, "how": true, "i": true, "if": true, "in": true, "into": true,
	"is": true, "it": true, "its": true, "just": true, "may": true, "me": true,
	"might": true, "my": true, "of": true, "on": true, "or": true, "our": true,
	"over": true, "she": true, "should": true, "so": true, "some": true, "such": true,
	"than": true, "that": true, "the": true, "their": true, "them": true, "then": true,
	"there": true, "these": true, "they": true, "this": true, "those": true, "to": true,
	"too": true, "us": true, "very": true, "was": true, "we": true, "were": true,
	"what": true, "when": true, "where": true, "which": true, "who": true, "whom": true,
	"why": true, "will": true, "with": true, "would": true, "you": true, "your": true,
}
