package memory

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/gathering/gathering/internal/store"
)

// vanishingStore deletes an entry just before Reembed reads it, as another
// request might.
type vanishingStore struct {
	store.Store
	vanish int64
}

func (s vanishingStore) MemoryGet(ctx context.Context, id int64) (store.Memory, error) {
	if id == s.vanish {
		if err := s.MemoryDelete(ctx, id); err != nil {
			return store.Memory{}, err
		}
	}
	return s.Store.MemoryGet(ctx, id)
}

func TestReembedSkipsDeletedAndOtherFilters(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		old, emb := NewLocal(64), NewLocal(0)
		texts := make([]string, reembedBatch+44) // two batches
		for i := range texts {
			texts[i] = fmt.Sprintf("%s (%d)", corpus[i%len(corpus)], i)
		}
		ms := remember(t, st, old, 1, texts...)
		other := remember(t, st, old, 2, "another agent's memory")
		n, err := Reembed(ctx, vanishingStore{st, ms[2].ID}, agentFilter(1), emb)
		if err != nil || n != len(ms)-1 {
			t.Fatalf("reembed: %d %v, want %d", n, err, len(ms)-1)
		}
		got, err := st.MemoryGet(ctx, other[0].ID)
		if err != nil || got.Embedder != old.Name() {
			t.Fatalf("another filter's entry changed: %q %v", got.Embedder, err)
		}
		got, err = st.MemoryGet(ctx, ms[0].ID)
		if err != nil || got.Embedder != emb.Name() || !slices.Equal(got.Vector, embedOne(t, emb, got.Content)) {
			t.Fatalf("re-embedded entry: %q %v", got.Embedder, err)
		}
	})
}
