package memory

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"time"

	"github.com/gathering/gathering/internal/store"
)

// ranker keeps the best results seen so far in a bounded min-heap: the
// worst kept result is at the root, so a better one replaces it in
// O(log limit).
type ranker struct {
	query            []float32
	limit            int
	threshold        float64
	recencyWeight    float64
	importanceWeight float64
	now              time.Time
	seen             int // entries scanned, whatever their similarity
	top              resultHeap
}

func newRanker(q Query, vector []float32) *ranker {
	return &ranker{
		query: vector, limit: q.Limit, threshold: q.Threshold,
		recencyWeight: q.RecencyWeight, importanceWeight: q.ImportanceWeight,
		now: q.Now, top: make(resultHeap, 0, q.Limit),
	}
}

// empty reports whether the query vector is zero: nothing can be like it.
func (r *ranker) empty() bool {
	return !slices.ContainsFunc(r.query, func(x float32) bool { return x != 0 })
}

// consider ranks one scanned entry. A kept result's Memory holds
// only its ID: Recall loads the winners' entries afterwards.
func (r *ranker) consider(v store.MemoryVector) error {
	r.seen++
	if len(v.Vector) != len(r.query) {
		return fmt.Errorf("memory %d has a vector of %d dimensions, its embedder makes %d", v.ID, len(v.Vector), len(r.query))
	}
	sim := cosine(r.query, v.Vector)
	if sim < r.threshold {
		return nil
	}
	res := Result{Memory: store.Memory{ID: v.ID}, Similarity: sim, Score: r.score(sim, v)}
	switch {
	case len(r.top) < r.limit:
		heap.Push(&r.top, res)
	case worse(r.top[0], res):
		r.top[0] = res
		heap.Fix(&r.top, 0)
	}
	return nil
}

// score blends similarity, recency and importance.
func (r *ranker) score(sim float64, v store.MemoryVector) float64 {
	importance := max(0, min(1, v.Importance))
	return sim*(1-r.recencyWeight-r.importanceWeight) +
		r.recencyWeight*recencyAt(cmp.Or(v.LastAccessedAt, v.CreatedAt), r.now) + r.importanceWeight*importance
}

// results returns the kept results, best first.
func (r *ranker) results() []Result {
	rs := slices.Clone(r.top)
	slices.SortFunc(rs, func(a, b Result) int {
		if worse(b, a) {
			return -1
		}
		if worse(a, b) {
			return 1
		}
		return 0
	})
	return rs
}

// worse reports whether a ranks below b: a lower score, or an equal score
// and a higher id.
func worse(a, b Result) bool {
	if a.Score != b.Score {
		return a.Score < b.Score
	}
	return a.Memory.ID > b.Memory.ID
}

// resultHeap is a container/heap of results, worst at the root.
type resultHeap []Result

func (h resultHeap) Len() int           { return len(h) }
func (h resultHeap) Less(i, j int) bool { return worse(h[i], h[j]) }
func (h resultHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *resultHeap) Push(x any)        { *h = append(*h, x.(Result)) }
func (h *resultHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
