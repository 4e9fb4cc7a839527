package memory

import (
	"context"
	"slices"
	"testing"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// AgentRecaller is what the agent service recalls memories through.
var _ agent.Recaller = AgentRecaller{}

func TestAgentRecallerRecallsTheAgentsOwnMemories(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		emb := NewLocal(0)
		remember(t, st, emb, 1, corpus...)
		remember(t, st, emb, 2, "Prune the apple trees when to prune roses.")
		r := AgentRecaller{Store: st, Embedder: emb}
		got, err := r.Recall(ctx, 1, "when to prune roses", 2)
		if err != nil || len(got) == 0 || len(got) > 2 || got[0] != corpus[9] {
			t.Fatalf("recall: %q %v", got, err)
		}
		// Nothing alike enough: no filler from the rest of the corpus.
		if got, err := r.Recall(ctx, 1, "zebra xylophone quokka", 5); err != nil || len(got) != 0 {
			t.Fatalf("unrelated text: %q %v", got, err)
		}
		if got, err := r.Recall(ctx, 1, "  ", 5); err != nil || got != nil {
			t.Fatalf("blank text: %q %v", got, err)
		}
		// Limits outside Recall's range are brought into it.
		for limit, want := range map[int]int{0: DefaultLimit, -3: DefaultLimit, MaxLimit + 50: len(corpus)} {
			got, err := r.Recall(ctx, 1, "the tomato sauce, the bread, the water and the garden", limit)
			if err != nil || len(got) > want || slices.Contains(got, "Prune the apple trees when to prune roses.") {
				t.Errorf("limit %d: %d results, %v", limit, len(got), err)
			}
		}
	})
}

func TestAgentRecallerPassesOnAnotherEmbeddersRefusal(t *testing.T) {
	t.Parallel()
	st := sqliteStore(t)
	remember(t, st, NewLocal(64), 1, corpus...)
	_, err := AgentRecaller{Store: st, Embedder: NewLocal(0)}.Recall(context.Background(), 1, "roses", 3)
	if gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Fatalf("recall over another embedder's memories: %v", err)
	}
}
