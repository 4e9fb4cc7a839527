package memory

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/store"
)

// BenchmarkRecall measures one recall (embed the query, scan and rank every
// entry of one agent, read and touch the results) over 10,000 and 100,000
// stored memories of 384 dimensions, on each backend. The store is filled
// before the timer starts, 1,000 entries per MemoryCreate.
func BenchmarkRecall(b *testing.B) {
	for _, be := range backends {
		for _, n := range []int{10_000, 100_000} {
			b.Run(fmt.Sprintf("%s/%d", be.name, n), func(b *testing.B) {
				st := be.open(b)
				fill(b, st, n)
				q := Query{Filter: agentFilter(1), Text: "tomato seedlings in the vegetable garden", Limit: 10}
				for b.Loop() {
					if _, err := Recall(context.Background(), st, NewLocal(0), q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// fill stores n memories of agent 1 with random unit vectors, in batches
// of 1,000.
func fill(b *testing.B, st store.Store, n int) {
	b.Helper()
	r := rand.New(rand.NewPCG(7, 7))
	name, now := NewLocal(0).Name(), time.Now()
	for start := 0; start < n; start += 1000 {
		batch := make([]store.Memory, min(1000, n-start))
		for i := range batch {
			batch[i] = store.Memory{Scope: store.ScopeAgent, AgentID: 1, Type: store.MemoryFact,
				Content:  fmt.Sprintf("memory %d: %s", start+i, corpus[(start+i)%len(corpus)]),
				Embedder: name, Vector: randomUnit(r, DefaultDimension), CreatedAt: now}
		}
		if _, err := st.MemoryCreate(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLocalEmbed measures the LocalEmbedder on a sentence and on a
// full default-size chunk.
func BenchmarkLocalEmbed(b *testing.B) {
	chunk := Chunk(strings.Repeat(strings.Join(corpus, " ")+" ", 3), 0, -1)[0]
	for _, c := range []struct{ name, text string }{{"sentence", corpus[0]}, {"chunk-2000", chunk}} {
		b.Run(c.name, func(b *testing.B) {
			e := NewLocal(0)
			texts := []string{c.text}
			for b.Loop() {
				if _, err := e.Embed(context.Background(), texts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRank measures the ranking alone (cosine and bounded heap, no
// store) over 100,000 vectors of 384 dimensions, as MemoryScanVectors hands
// them to Recall, to tell it apart from the scan in BenchmarkRecall.
func BenchmarkRank(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 7))
	vs := make([]store.MemoryVector, 100_000)
	for i := range vs {
		vs[i] = store.MemoryVector{ID: int64(i + 1), Vector: randomUnit(r, DefaultDimension)}
	}
	q := Query{Limit: 10, Now: time.Now()}
	for b.Loop() {
		rk := newRanker(q, vs[0].Vector)
		for _, v := range vs {
			if err := rk.consider(v); err != nil {
				b.Fatal(err)
			}
		}
	}
}
