package memory

import (
	"context"
	"math"
	"slices"
	"testing"
)

func embedOne(t *testing.T, e Embedder, text string) []float32 {
	t.Helper()
	vs, err := e.Embed(context.Background(), []string{text})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || len(vs[0]) != e.Dimension() {
		t.Fatalf("%d vectors, first of %d dimensions; want 1 of %d", len(vs), len(vs[0]), e.Dimension())
	}
	return vs[0]
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func TestLocalNameAndDimension(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		dim      int
		wantDim  int
		wantName string
	}{{0, 384, "local-ngram-384"}, {-3, 384, "local-ngram-384"}, {64, 64, "local-ngram-64"}, {1024, 1024, "local-ngram-1024"}} {
		e := NewLocal(c.dim)
		if e.Dimension() != c.wantDim || e.Name() != c.wantName {
			t.Errorf("NewLocal(%d): %d %q", c.dim, e.Dimension(), e.Name())
		}
		embedOne(t, e, "the dimension is respected")
	}
}

// TestLocalDeterministic checks that a text gets the same vector from every
// call and every embedder value, and the same vector as when this test was
// written: stored vectors stay comparable across processes and releases.
// (Bits may differ in the last place on another architecture, hence the
// tolerance.)
func TestLocalDeterministic(t *testing.T) {
	t.Parallel()
	text := "Stable vectors across processes: hashing has no random seed. Ünïcödé too, 東京."
	a := embedOne(t, NewLocal(0), text)
	for range 5 {
		if b := embedOne(t, NewLocal(0), text); !slices.Equal(a, b) {
			t.Fatal("two calls gave different vectors")
		}
	}
	batch, err := NewLocal(0).Embed(context.Background(), []string{"other", text, ""})
	if err != nil || !slices.Equal(a, batch[1]) {
		t.Fatalf("in a batch the vector differs (%v)", err)
	}
	const goldenNonZero, goldenChecksum = 70, -95.368490
	nonZero, checksum := 0, 0.0
	for i, x := range a {
		if x != 0 {
			nonZero++
		}
		checksum += float64(i+1) * float64(x)
	}
	if nonZero != goldenNonZero || math.Abs(checksum-goldenChecksum) > 1e-4 {
		t.Fatalf("%d non-zero components, checksum %.6f; want %d, %.6f: the algorithm changed, so stored local vectors no longer match new ones (rename the embedder)",
			nonZero, checksum, goldenNonZero, goldenChecksum)
	}
}

func TestLocalUnitNorm(t *testing.T) {
	t.Parallel()
	for _, text := range append([]string{"x", "a b", "Ça va? Très bien!", "1234 5678"}, corpus...) {
		if n := norm(embedOne(t, NewLocal(0), text)); math.Abs(n-1) > 1e-5 {
			t.Errorf("%q: norm %v", text, n)
		}
	}
}

func TestLocalEmptyIsZero(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"", "   ", "?!… — ***"} {
		v := embedOne(t, NewLocal(0), text)
		for _, x := range v {
			if x != 0 {
				t.Fatalf("%q: non-zero component %v", text, x)
			}
		}
		if s := cosine(embedOne(t, NewLocal(0), "anything"), v); s != 0 || math.IsNaN(s) {
			t.Fatalf("%q: similarity with a zero vector is %v", text, s)
		}
	}
}

func TestLocalSimilarCloserThanUnrelated(t *testing.T) {
	t.Parallel()
	e := NewLocal(0)
	for _, c := range []struct{ a, near, far string }{
		{"The cat sat on the mat.", "A cat was sitting on the mat.", "Stock markets fell sharply today."},
		{"database index tuning", "tuning the indexes of a database", "baking sourdough bread"},
		{"gardening tips", "gardener's tips for the garden", "compiler optimisation"},
		{"recieve the pakage", "receive the package", "send the letter"},    // typos
		{"Größe der Städte", "die größten Städte", "kleine Dörfer am Meer"}, // non-English
		{"東京の天気予報", "東京の天気", "大阪のラーメン"},                                     // no spaces
	} {
		va := embedOne(t, e, c.a)
		near, far := cosine(va, embedOne(t, e, c.near)), cosine(va, embedOne(t, e, c.far))
		if near <= far {
			t.Errorf("%q: near %q %.3f, far %q %.3f", c.a, c.near, near, c.far, far)
		}
	}
}

func TestLocalStopwordsWeighLess(t *testing.T) {
	t.Parallel()
	e := NewLocal(0)
	q := embedOne(t, e, "the history of the telescope")
	// Sharing only function words is worth less than sharing one real word.
	if s1, s2 := cosine(q, embedOne(t, e, "the end of the day")), cosine(q, embedOne(t, e, "telescope")); s1 >= s2 {
		t.Fatalf("stopwords %.3f ≥ content word %.3f", s1, s2)
	}
}

func TestLocalHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewLocal(0).Embed(ctx, []string{"x"}); err == nil {
		t.Fatal("a cancelled context embeds")
	}
}
