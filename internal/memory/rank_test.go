package memory

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/store"
)

// randomUnit returns a random unit vector of dim dimensions.
func randomUnit(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	normalize(v)
	return v
}

// TestRankerKeepsTheBest checks the bounded heap against sorting
// everything, with many exact ties.
func TestRankerKeepsTheBest(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q := randomUnit(r, 32)
	distinct := make([][]float32, 50)
	for i := range distinct {
		distinct[i] = randomUnit(r, 32)
	}
	for _, limit := range []int{1, 7, 100} {
		rk := newRanker(Query{Limit: limit, Threshold: -1, RecencyWeight: 0.2, ImportanceWeight: 0.1, Now: now}, q)
		var all []Result
		for id := range int64(1000) {
			m := store.Memory{ID: id + 1, Vector: distinct[r.IntN(len(distinct))], Importance: float64(r.IntN(3)) / 2,
				CreatedAt: now.Add(-time.Duration(r.IntN(3)) * HalfLife)}
			if err := rk.consider(vectorOf(m)); err != nil {
				t.Fatal(err)
			}
			sim := cosine(q, m.Vector)
			all = append(all, Result{Memory: store.Memory{ID: m.ID}, Score: rk.score(sim, vectorOf(m))})
		}
		slices.SortFunc(all, func(a, b Result) int {
			if a.Score != b.Score {
				return cmp.Compare(b.Score, a.Score)
			}
			return int(a.Memory.ID - b.Memory.ID)
		})
		got := rk.results()
		if len(got) != limit {
			t.Fatalf("limit %d: %d results", limit, len(got))
		}
		for i := range got {
			if got[i].Memory.ID != all[i].Memory.ID || got[i].Memory.Vector != nil {
				t.Fatalf("limit %d: result %d is %d, want %d", limit, i, got[i].Memory.ID, all[i].Memory.ID)
			}
		}
	}
}

func TestRankerRefusesAWrongDimension(t *testing.T) {
	t.Parallel()
	rk := newRanker(Query{Limit: 1}, []float32{1, 0})
	if err := rk.consider(store.MemoryVector{ID: 3, Vector: []float32{1, 0, 0}}); err == nil {
		t.Fatal("a vector of another dimension is ranked")
	}
}

func TestRecency(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		created, accessed time.Time
		want              float64
	}{
		{now, time.Time{}, 1},
		{now.Add(-HalfLife), time.Time{}, 0.5},
		{now.Add(-3 * HalfLife), time.Time{}, 0.125},
		{now.Add(-3 * HalfLife), now.Add(-HalfLife), 0.5}, // last access wins
		{now.Add(time.Hour), time.Time{}, 1},              // clock skew: never above 1
		{time.Time{}, time.Time{}, 0},
	} {
		if got := recencyAt(cmp.Or(c.accessed, c.created), now); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("created %v accessed %v: %v, want %v", c.created, c.accessed, got, c.want)
		}
	}
}

func TestCosineNormalisesDefensively(t *testing.T) {
	t.Parallel()
	q := []float32{0.6, 0.8}
	for _, c := range []struct {
		v    []float32
		want float64
	}{
		{[]float32{3, 4}, 1},
		{[]float32{-6, -8}, -1},
		{[]float32{8, -6}, 0},
		{[]float32{0, 0}, 0},
	} {
		if got := cosine(q, c.v); math.Abs(got-c.want) > 1e-6 || math.IsNaN(got) {
			t.Errorf("%v: %v, want %v", c.v, got, c.want)
		}
	}
}

func TestRankerImportanceClamped(t *testing.T) {
	t.Parallel()
	rk := newRanker(Query{Limit: 1, ImportanceWeight: 1}, []float32{1})
	for _, c := range []struct{ importance, want float64 }{{-2, 0}, {0.25, 0.25}, {7, 1}} {
		if got := rk.score(0.5, store.MemoryVector{Importance: c.importance}); got != c.want {
			t.Errorf("importance %v: score %v, want %v", c.importance, got, c.want)
		}
	}
}

// vectorOf is what MemoryScanVectors reads of m.
func vectorOf(m store.Memory) store.MemoryVector {
	return store.MemoryVector{ID: m.ID, Vector: m.Vector, Importance: m.Importance, CreatedAt: m.CreatedAt, LastAccessedAt: m.LastAccessedAt}
}
