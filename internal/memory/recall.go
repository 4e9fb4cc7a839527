package memory

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Recall limits.
const (
	DefaultLimit = 5
	MaxLimit     = 100
)

// HalfLife is how long it takes an entry's recency to halve, counted from
// when it was last recalled, or created if never.
const HalfLife = 30 * 24 * time.Hour

// Query asks Recall for the entries most like a text.
type Query struct {
	// Filter selects the entries to rank. Its Embedder, when set, must be
	// the recalling embedder's name.
	Filter store.MemoryFilter
	// Text is what to look for.
	Text string
	// Limit is how many results at most: 0 means DefaultLimit; at most
	// MaxLimit.
	Limit int
	// Threshold is the least similarity (cosine, -1 to 1) of a result.
	Threshold float64
	// RecencyWeight and ImportanceWeight (each 0 to 1, together at most
	// 1) blend recency and importance into the score; the rest of the
	// weight goes to similarity.
	RecencyWeight    float64
	ImportanceWeight float64
	// Now is the time recency is measured from and accesses are recorded
	// at; zero means time.Now().
	Now time.Time
}

// Result is one recalled entry.
type Result struct {
	// Memory is the entry as it was before this recall touched it,
	// without its vector.
	Memory store.Memory
	// Similarity is the cosine similarity of the entry and the query.
	Similarity float64
	// Score is what results are ranked by: Similarity × (1 − rw − iw) +
	// rw × recency + iw × importance, where recency is 1 just now and
	// halves every HalfLife, and importance is clamped to [0, 1].
	Score float64
}

// Recall ranks the entries of q.Filter made by emb against q.Text by exact
// cosine similarity, keeps the q.Limit best by score (ties by id), records
// that they were accessed, and returns them best first. A query with
// nothing to embed finds nothing. The ranking reads only each entry's
// ranking inputs (MemoryScanVectors); the best are then read whole
// (MemoryGetMany), and one deleted in between is left out.
//
// Entries made by other embedders are never compared. When the filter
// holds entries but none of emb's, Recall fails with ECONFLICT naming the
// embedders found: the entries must be re-embedded (Reembed) first. When it
// holds both, only emb's are ranked. Invalid queries are EINVALID.
func Recall(ctx context.Context, st Store, emb Embedder, q Query) ([]Result, error) {
	if err := q.check(emb.Name()); err != nil {
		return nil, err
	}
	vs, err := embed(ctx, emb, []string{q.Text})
	if err != nil {
		return nil, fmt.Errorf("recall: %w", err)
	}
	r := newRanker(q, vs[0])
	if r.empty() {
		return nil, nil
	}
	f := q.Filter
	f.Embedder = emb.Name()
	if err := st.MemoryScanVectors(ctx, f, r.consider); err != nil {
		return nil, fmt.Errorf("recall: %w", err)
	}
	if r.seen == 0 {
		return nil, refuseOthers(ctx, st, q.Filter, emb.Name())
	}
	rs, err := loaded(ctx, st, r.results())
	if err != nil {
		return nil, err
	}
	return touched(ctx, st, rs, r.now)
}

// loaded fills in the Memory of each ranked result (which holds only its
// ID) with its entry, without the vector, in one read, keeping the order
// and scores; a result whose entry no longer exists is left out.
func loaded(ctx context.Context, st Store, rs []Result) ([]Result, error) {
	if len(rs) == 0 {
		return rs, nil
	}
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.Memory.ID
	}
	ms, err := st.MemoryGetMany(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("recall: %w", err)
	}
	out := rs[:0]
	for _, r := range rs {
		if len(ms) > 0 && ms[0].ID == r.Memory.ID { // ms is in the order of ids, with gaps
			r.Memory, ms = ms[0], ms[1:]
			out = append(out, r)
		}
	}
	return out, nil
}

// check validates the query and fills in its defaults.
func (q *Query) check(embedder string) error {
	var fields []gathering.FieldError
	bad := func(field, msg string) { fields = append(fields, gathering.FieldError{Field: field, Message: msg}) }
	if strings.TrimSpace(q.Text) == "" {
		bad("text", "must not be blank")
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		bad("limit", fmt.Sprintf("must be between 1 and %d", MaxLimit))
	}
	if !(q.Threshold >= -1 && q.Threshold <= 1) {
		bad("threshold", "must be between -1 and 1")
	}
	if !(q.RecencyWeight >= 0 && q.RecencyWeight <= 1) {
		bad("recency_weight", "must be between 0 and 1")
	}
	if !(q.ImportanceWeight >= 0 && q.ImportanceWeight <= 1) {
		bad("importance_weight", "must be between 0 and 1")
	} else if q.RecencyWeight+q.ImportanceWeight > 1+1e-9 { // tolerate 0.7 + 0.3 rounding
		bad("importance_weight", "recency_weight and importance_weight must add up to at most 1")
	}
	if q.Filter.Embedder != "" && q.Filter.Embedder != embedder {
		bad("embedder", "must be "+embedder+", the embedder that recalls")
	}
	if fields != nil {
		return gathering.Invalid("The recall query is invalid.", fields...)
	}
	q.Limit = cmp.Or(q.Limit, DefaultLimit)
	q.Now = cmp.Or(q.Now, time.Now())
	return nil
}

// refuseOthers explains why a filter with no entries of embedder found
// nothing: ECONFLICT when other embedders' entries are there, nil when the
// filter is simply empty.
func refuseOthers(ctx context.Context, st Store, f store.MemoryFilter, embedder string) error {
	f.Embedder = ""
	stats, err := st.MemoryStats(ctx, f)
	if err != nil {
		return fmt.Errorf("recall: %w", err)
	}
	var others []string
	n := 0
	for name, count := range stats.ByEmbedder {
		if name != embedder && count > 0 {
			others = append(others, name)
			n += count
		}
	}
	if n == 0 {
		return nil
	}
	slices.Sort(others)
	return gathering.Errorf(gathering.ECONFLICT,
		"The %d memories here were embedded with %s, not with %s; re-embed them before recalling.",
		n, strings.Join(others, ", "), embedder)
}

// touched records that the results were accessed at now.
func touched(ctx context.Context, st Store, rs []Result, now time.Time) ([]Result, error) {
	if len(rs) == 0 {
		return rs, nil
	}
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.Memory.ID
	}
	if err := st.MemoryTouch(ctx, ids, now); err != nil {
		return nil, fmt.Errorf("recall: %w", err)
	}
	return rs, nil
}

// recencyAt is the recency of an entry last accessed (or created) at at:
// 1 at now, halving every HalfLife before.
func recencyAt(at, now time.Time) float64 {
	age := max(now.Sub(at), 0)
	return math.Exp2(-float64(age) / float64(HalfLife))
}

// cosine is the cosine similarity of the unit vector q and v (v's norm is
// computed, not trusted). It sums in four float32 lanes so the additions
// do not wait on each other; the rounding error (about 1e-6 for 1,000
// dimensions) is far below any meaningful difference of similarity.
func cosine(q, v []float32) float64 {
	q = q[:len(v)]
	var d0, d1, d2, d3, n0, n1, n2, n3 float32
	i := 0
	for ; i+4 <= len(v); i += 4 {
		a, b := q[i:i+4:i+4], v[i:i+4:i+4]
		d0, d1, d2, d3 = d0+a[0]*b[0], d1+a[1]*b[1], d2+a[2]*b[2], d3+a[3]*b[3]
		n0, n1, n2, n3 = n0+b[0]*b[0], n1+b[1]*b[1], n2+b[2]*b[2], n3+b[3]*b[3]
	}
	for ; i < len(v); i++ {
		d0 += q[i] * v[i]
		n0 += v[i] * v[i]
	}
	dot, norm := float64(d0+d1+d2+d3), float64(n0+n1+n2+n3)
	if norm == 0 {
		return 0
	}
	return max(-1, min(1, dot/math.Sqrt(norm)))
}
