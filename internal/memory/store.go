package memory

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Store is the part of store.MemoryStore this package uses: Recall scans
// vectors, gets the best entries, counts and touches; Remember creates;
// Reembed scans, gets and sets vectors. Every store.Store is one.
type Store interface {
	MemoryCreate(ctx context.Context, ms []store.Memory) ([]store.Memory, error)
	MemoryGet(ctx context.Context, id int64) (store.Memory, error)
	MemoryGetMany(ctx context.Context, ids []int64) ([]store.Memory, error)
	MemoryScan(ctx context.Context, f store.MemoryFilter, fn func(store.Memory) error) error
	MemoryScanVectors(ctx context.Context, f store.MemoryFilter, fn func(store.MemoryVector) error) error
	MemoryTouch(ctx context.Context, ids []int64, at time.Time) error
	MemorySetVector(ctx context.Context, id int64, embedder string, vector []float32) error
	MemoryStats(ctx context.Context, f store.MemoryFilter) (store.MemoryStats, error)
}

var _ Store = store.MemoryStore(nil)

// embed embeds texts and checks what the embedder returns: one vector per
// text, each of its dimension, normalised again in case it was not.
func embed(ctx context.Context, emb Embedder, texts []string) ([][]float32, error) {
	vs, err := emb.Embed(ctx, texts)
	if err != nil {
		return nil, err
	}
	if len(vs) != len(texts) {
		return nil, fmt.Errorf("embed with %s: %d vectors for %d texts", emb.Name(), len(vs), len(texts))
	}
	for _, v := range vs {
		if len(v) != emb.Dimension() {
			return nil, fmt.Errorf("embed with %s: a vector of %d dimensions, want %d", emb.Name(), len(v), emb.Dimension())
		}
		normalize(v)
	}
	return vs, nil
}

// Remember embeds the entries' contents in one call to emb and stores the
// entries with their vectors, returning them with their ids. Any Embedder
// and Vector already set are replaced; a zero CreatedAt becomes now. A
// blank content is EINVALID.
func Remember(ctx context.Context, st Store, emb Embedder, ms []store.Memory) ([]store.Memory, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	texts := make([]string, len(ms))
	for i, m := range ms {
		if strings.TrimSpace(m.Content) == "" {
			return nil, gathering.Invalid("A memory needs content.", gathering.FieldError{Field: fmt.Sprintf("memories[%d].content", i), Message: "must not be blank"})
		}
		texts[i] = m.Content
	}
	vs, err := embed(ctx, emb, texts)
	if err != nil {
		return nil, fmt.Errorf("remember: %w", err)
	}
	out := make([]store.Memory, len(ms))
	now := time.Now()
	for i, m := range ms {
		m.Embedder, m.Vector = emb.Name(), vs[i]
		m.CreatedAt = cmp.Or(m.CreatedAt, now)
		out[i] = m
	}
	return st.MemoryCreate(ctx, out)
}
