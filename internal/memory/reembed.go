package memory

import (
	"context"
	"fmt"
	"slices"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// reembedBatch is how many entries Reembed embeds at once.
const reembedBatch = 256

// Reembed gives every entry that matches from, and was not made by emb, a
// new vector from emb, batch by batch, and returns how many it changed.
// It first collects the ids (so no store call runs inside the scan), then
// reads, embeds and writes each batch; entries deleted meanwhile are
// skipped. Running it again after a failure carries on where it stopped.
func Reembed(ctx context.Context, st Store, from store.MemoryFilter, emb Embedder) (int, error) {
	var ids []int64
	err := st.MemoryScan(ctx, from, func(m store.Memory) error {
		if m.Embedder != emb.Name() {
			ids = append(ids, m.ID)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reembed: %w", err)
	}
	n := 0
	for batch := range slices.Chunk(ids, reembedBatch) {
		k, err := reembedIDs(ctx, st, emb, batch)
		n += k
		if err != nil {
			return n, fmt.Errorf("reembed: %w", err)
		}
	}
	return n, nil
}

// reembedIDs re-embeds one batch of entries.
func reembedIDs(ctx context.Context, st Store, emb Embedder, ids []int64) (int, error) {
	ms, err := getAll(ctx, st, ids)
	if err != nil {
		return 0, err
	}
	texts := make([]string, len(ms))
	for i, m := range ms {
		texts[i] = m.Content
	}
	vs, err := embed(ctx, emb, texts)
	if err != nil {
		return 0, err
	}
	n := 0
	for i, m := range ms {
		err := st.MemorySetVector(ctx, m.ID, emb.Name(), vs[i])
		if gathering.ErrorCode(err) == gathering.ENOTFOUND {
			continue
		} else if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// getAll reads the entries of ids that still exist.
func getAll(ctx context.Context, st Store, ids []int64) ([]store.Memory, error) {
	ms := make([]store.Memory, 0, len(ids))
	for _, id := range ids {
		m, err := st.MemoryGet(ctx, id)
		if gathering.ErrorCode(err) == gathering.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}
