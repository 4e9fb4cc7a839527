package memory

import (
	"context"
	"math"
)

// Embedder turns texts into vectors whose cosine similarity reflects how
// alike the texts are. Implementations are safe for concurrent use and
// return L2-normalised vectors (or zero vectors for texts with nothing to
// embed).
type Embedder interface {
	// Name identifies the embedder and its parameters ("local-ngram-384",
	// "provider:openai:text-embedding-3-small"); it is stored with every
	// vector, and only vectors of the same name are compared.
	Name() string
	// Dimension is the length of every vector Embed returns.
	Dimension() int
	// Embed returns one vector per text, in order.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// normalize scales v to unit length in place; a zero vector stays zero.
func normalize(v []float32) {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		return
	}
	inv := 1 / math.Sqrt(sum)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
}
