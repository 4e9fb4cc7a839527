package memory

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/sqlitestore"
)

// ranking is what one backend answered to every recall case: the corpus
// positions (1-based) of the results, and their similarities.
type ranking struct {
	positions [][]int64
	sims      [][]float64
}

// TestRecallCorpus stores the fixed corpus on each backend, checks that
// every query finds its expected entries, and that both backends rank
// exactly alike.
func TestRecallCorpus(t *testing.T) {
	t.Parallel()
	got := make([]ranking, len(backends))
	for i, b := range backends {
		got[i] = recallCorpus(t, b.open(t))
	}
	if !slices.EqualFunc(got[0].positions, got[1].positions, slices.Equal) || !slices.EqualFunc(got[0].sims, got[1].sims, slices.Equal) {
		t.Fatalf("the backends rank differently:\n%s %v\n%s %v", backends[0].name, got[0].positions, backends[1].name, got[1].positions)
	}
}

// recallCorpus runs every recall case on one store.
func recallCorpus(t *testing.T, st store.Store) ranking {
	t.Helper()
	emb := NewLocal(0)
	remember(t, st, emb, 1, corpus...)
	remember(t, st, emb, 2, recallCases[0].query) // another agent's: must not show
	var r ranking
	for _, c := range recallCases {
		rs, err := Recall(context.Background(), st, emb, Query{Filter: agentFilter(1), Text: c.query, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		pos, sims := positions(t, rs), similarities(rs)
		if len(pos) != 3 || pos[0] != c.top1 || !containsAll(pos, c.top3) {
			t.Errorf("%q: got %v (similarities %.3f), want %d first and %v in the top 3", c.query, pos, sims, c.top1, c.top3)
		}
		r.positions, r.sims = append(r.positions, pos), append(r.sims, sims)
	}
	return r
}

// positions maps results to their corpus positions (1-based).
func positions(t *testing.T, rs []Result) []int64 {
	t.Helper()
	out := make([]int64, len(rs))
	for i, r := range rs {
		k := slices.Index(corpus, r.Memory.Content)
		if k < 0 || r.Memory.AgentID != 1 || r.Memory.Vector != nil {
			t.Fatalf("result %+v: not agent 1's corpus entry, or with its vector", r.Memory)
		}
		out[i] = int64(k + 1)
	}
	return out
}

func similarities(rs []Result) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = r.Similarity
	}
	return out
}

func containsAll(s, sub []int64) bool {
	for _, x := range sub {
		if !slices.Contains(s, x) {
			return false
		}
	}
	return true
}

func TestRecallRefusesAnotherEmbedderUntilReembedded(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		old, emb := NewLocal(64), NewLocal(0)
		remember(t, st, old, 1, corpus...)
		q := Query{Filter: agentFilter(1), Text: "when to prune roses"}
		_, err := Recall(ctx, st, emb, q)
		if gathering.ErrorCode(err) != gathering.ECONFLICT || !strings.Contains(err.Error(), "local-ngram-64") {
			t.Fatalf("recall over another embedder's entries: %v", err)
		}
		n, err := Reembed(ctx, st, agentFilter(1), emb)
		if err != nil || n != len(corpus) {
			t.Fatalf("reembed: %d %v", n, err)
		}
		rs, err := Recall(ctx, st, emb, q)
		if err != nil || len(rs) != DefaultLimit || rs[0].Memory.Content != corpus[9] {
			t.Fatalf("after reembed: %v %v", rs, err)
		}
		if n, err := Reembed(ctx, st, agentFilter(1), emb); err != nil || n != 0 {
			t.Fatalf("second reembed: %d %v", n, err)
		}
		stats, err := st.MemoryStats(ctx, agentFilter(1))
		if err != nil || stats.ByEmbedder[emb.Name()] != len(corpus) || stats.ByEmbedder[old.Name()] != 0 {
			t.Fatalf("stats %+v %v", stats, err)
		}
	})
}

func TestRecallRanksOnlyItsEmbedderWhenMixed(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, st store.Store) {
		emb := NewLocal(0)
		remember(t, st, NewLocal(64), 1, "prune the roses")
		want := remember(t, st, emb, 1, "prune the apple trees")
		rs, err := Recall(context.Background(), st, emb, Query{Filter: agentFilter(1), Text: "prune the roses"})
		if err != nil || len(rs) != 1 || rs[0].Memory.ID != want[0].ID {
			t.Fatalf("%v %v", rs, err)
		}
		// An empty filter finds nothing, without error.
		if rs, err := Recall(context.Background(), st, emb, Query{Filter: agentFilter(9), Text: "roses"}); err != nil || len(rs) != 0 {
			t.Fatalf("empty scope: %v %v", rs, err)
		}
	})
}

func TestRecallScoresRecencyAndImportance(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		ms := make([]store.Memory, 4)
		for i := range ms { // the same text, older and more important as i grows
			ms[i] = store.Memory{Scope: store.ScopeAgent, AgentID: 1, Type: store.MemoryEpisode,
				Content: "the deploy failed on friday", Importance: float64(i) / 3,
				CreatedAt: now.Add(-time.Duration(i) * HalfLife)}
		}
		ms, err := Remember(ctx, st, NewLocal(0), ms)
		if err != nil {
			t.Fatal(err)
		}
		recall := func(q Query) ([]int64, []Result) {
			t.Helper()
			q.Filter, q.Text, q.Now = agentFilter(1), "deploy failed", now
			rs, err := Recall(ctx, st, NewLocal(0), q)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]int64, len(rs))
			for i, r := range rs {
				ids[i] = r.Memory.ID
			}
			return ids, rs
		}
		byID := []int64{ms[0].ID, ms[1].ID, ms[2].ID, ms[3].ID}
		reversed := []int64{ms[3].ID, ms[2].ID, ms[1].ID, ms[0].ID}
		// Recency halves every HalfLife since creation (nothing recalled yet).
		ids, rs := recall(Query{RecencyWeight: 0.5})
		if !slices.Equal(ids, byID) {
			t.Errorf("by recency: %v, want %v", ids, byID)
		}
		for i, r := range rs {
			if want := r.Similarity*0.5 + 0.5*math.Exp2(-float64(i)); math.Abs(r.Score-want) > 1e-9 {
				t.Errorf("result %d: score %v, want %v", i, r.Score, want)
			}
		}
		// All were just recalled at now: recency counts from then, all tie.
		if ids, _ := recall(Query{RecencyWeight: 1}); !slices.Equal(ids, byID) {
			t.Errorf("recency after a recall: %v, want by id %v", ids, byID)
		}
		if ids, _ := recall(Query{ImportanceWeight: 0.5}); !slices.Equal(ids, reversed) {
			t.Errorf("by importance: %v, want %v", ids, reversed)
		}
		if ids, _ := recall(Query{Limit: 2}); !slices.Equal(ids, byID[:2]) {
			t.Errorf("equal similarities: %v, want the lowest ids %v", ids, byID[:2])
		}
		if ids, _ := recall(Query{Threshold: 0.99}); len(ids) != 0 {
			t.Errorf("threshold 0.99: %v", ids)
		}
	})
}

func TestRecallTouchesResults(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		ms := remember(t, st, NewLocal(0), 1, corpus...)
		at := time.Date(2026, 5, 1, 8, 30, 0, 0, time.UTC)
		rs, err := Recall(ctx, st, NewLocal(0), Query{Filter: agentFilter(1), Text: "football championship", Limit: 2, Now: at})
		if err != nil || len(rs) != 2 || rs[0].Memory.AccessCount != 0 {
			t.Fatalf("%v %v", rs, err)
		}
		for _, m := range ms {
			got, err := st.MemoryGet(ctx, m.ID)
			recalled := m.ID == rs[0].Memory.ID || m.ID == rs[1].Memory.ID
			switch {
			case err != nil:
				t.Fatal(err)
			case recalled && (got.AccessCount != 1 || !got.LastAccessedAt.Equal(at)):
				t.Errorf("recalled %d: count %d at %v", m.ID, got.AccessCount, got.LastAccessedAt)
			case !recalled && got.AccessCount != 0:
				t.Errorf("not recalled %d touched", m.ID)
			}
		}
	})
}

func TestRememberChecksContent(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		_, err := Remember(ctx, st, NewLocal(0), []store.Memory{{Scope: store.ScopeAgent, AgentID: 1, Type: store.MemoryFact, Content: "ok"},
			{Scope: store.ScopeAgent, AgentID: 1, Type: store.MemoryFact, Content: " \n"}})
		if f := gathering.ErrorFields(err); gathering.ErrorCode(err) != gathering.EINVALID || len(f) != 1 || f[0].Field != "memories[1].content" {
			t.Fatalf("blank content: %v %v", err, f)
		}
		before := time.Now().Add(-time.Second)
		ms := remember(t, st, NewLocal(0), 1, "the sky is blue")
		got, err := st.MemoryGet(ctx, ms[0].ID)
		if err != nil || got.Embedder != "local-ngram-384" || len(got.Vector) != 384 || got.CreatedAt.Before(before) {
			t.Fatalf("%+v %v", got, err)
		}
		if math.Abs(norm(got.Vector)-1) > 1e-5 {
			t.Fatal("stored vector is not unit")
		}
	})
}

func TestRecallValidatesQuery(t *testing.T) {
	t.Parallel()
	ok := Query{Text: "x"}
	for _, c := range []struct {
		field string
		edit  func(*Query)
	}{
		{"text", func(q *Query) { q.Text = "  " }},
		{"limit", func(q *Query) { q.Limit = -1 }},
		{"limit", func(q *Query) { q.Limit = MaxLimit + 1 }},
		{"threshold", func(q *Query) { q.Threshold = 1.5 }},
		{"threshold", func(q *Query) { q.Threshold = math.NaN() }},
		{"recency_weight", func(q *Query) { q.RecencyWeight = -0.1 }},
		{"importance_weight", func(q *Query) { q.ImportanceWeight = 2 }},
		{"importance_weight", func(q *Query) { q.RecencyWeight, q.ImportanceWeight = 0.6, 0.6 }},
		{"embedder", func(q *Query) { q.Filter.Embedder = "other" }},
	} {
		q := ok
		c.edit(&q)
		// The store is never reached: nil would panic.
		_, err := Recall(context.Background(), nil, NewLocal(0), q)
		if f := gathering.ErrorFields(err); gathering.ErrorCode(err) != gathering.EINVALID || len(f) != 1 || f[0].Field != c.field {
			t.Errorf("%s: %v %v", c.field, err, f)
		}
	}
}

func ExampleRecall() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "memory-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: filepath.Join(dir, "g.db")})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		panic(err)
	}

	emb := NewLocal(0)
	_, err = Remember(ctx, st, emb, []store.Memory{
		{Scope: store.ScopeAgent, AgentID: 7, Type: store.MemoryPreference, Content: "Prefers green tea over coffee in the morning."},
		{Scope: store.ScopeAgent, AgentID: 7, Type: store.MemoryFact, Content: "Works on the billing service."},
	})
	if err != nil {
		panic(err)
	}
	rs, err := Recall(ctx, st, emb, Query{
		Filter: store.MemoryFilter{Scope: store.ScopeAgent, AgentID: 7},
		Text:   "which tea does she drink in the morning?",
		Limit:  1,
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s (similarity %.2f)\n", rs[0].Memory.Content, rs[0].Similarity)
	// Output: Prefers green tea over coffee in the morning. (similarity 0.46)
}
