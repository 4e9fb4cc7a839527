package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
)

// chainLength is the number of no-op tool nodes in the benchmark's chain.
const chainLength = 10

// echoChain is a pipeline of n echo nodes in a chain.
func echoChain(n int) (nodes, edges string) {
	var ns, es []string
	for i := range n {
		ns = append(ns, fmt.Sprintf(`{"id": "n%d", "type": "tool", "config": {"tool": "test.echo", "input": {"i": %d}}}`, i, i))
		if i > 0 {
			es = append(es, fmt.Sprintf(`{"id": "e%d", "from": "n%d", "to": "n%d"}`, i, i-1, i))
		}
	}
	return "[" + strings.Join(ns, ",") + "]", "[" + strings.Join(es, ",") + "]"
}

// BenchmarkNoopNodes runs b.N pipeline runs of a chain of ten no-op tool
// nodes, all submitted at once, and reports the sustained rate of nodes.
func BenchmarkNoopNodes(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			r, p := benchRig(b, backend)
			b.ResetTimer()
			start := time.Now()
			ids := make([]string, b.N)
			for i := range b.N {
				ids[i] = r.submit(b, p, "").ID
			}
			for _, id := range ids {
				benchFinish(b, r, id)
			}
			b.ReportMetric(float64(b.N*chainLength)/time.Since(start).Seconds(), "nodes/s")
		})
	}
}

// BenchmarkNoopNodeOverhead runs b.N runs of the same chain one after the
// other and reports the per-node overhead: the time from a node's
// predecessor finishing to the node finishing (scheduling, the attempt's
// two records and the tool execution's record), as p50 and p99 (SQLite
// keeps milliseconds), and the mean: a whole run's time over its nodes.
func BenchmarkNoopNodeOverhead(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			r, p := benchRig(b, backend)
			ids := make([]string, b.N)
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				ids[i] = r.submit(b, p, "").ID
				benchFinish(b, r, ids[i])
			}
			b.StopTimer()
			b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N*chainLength), "mean-µs/node")
			gaps := nodeGaps(b, r, ids)
			b.ReportMetric(float64(percentile(gaps, 50).Microseconds()), "p50-µs/node")
			b.ReportMetric(float64(percentile(gaps, 99).Microseconds()), "p99-µs/node")
		})
	}
}

// benchRig is a rig on a backend with the echo chain stored.
func benchRig(b *testing.B, backend string) (*rig, store.Pipeline) {
	r := newRig(b, rigOptions{db: openBench(b, backend)})
	nodes, edges := echoChain(chainLength)
	return r, r.pipeline(b, nodes, edges, "")
}

// benchFinish waits for a run to complete.
func benchFinish(b *testing.B, r *rig, id string) {
	if run := r.wait(b, id, 5*time.Minute, store.RunStatus.Final); run.Status != store.RunCompleted {
		b.Fatalf("run %s: %s", run.Status, run.Error)
	}
}

// nodeGaps returns, for every node after the first of each run, the time
// from its predecessor's end to its own.
func nodeGaps(b *testing.B, r *rig, ids []string) []time.Duration {
	var gaps []time.Duration
	for _, id := range ids {
		nodes := r.latest(b, id)
		for i := 1; i < chainLength; i++ {
			prev, cur := nodes[fmt.Sprintf("n%d", i-1)], nodes[fmt.Sprintf("n%d", i)]
			gaps = append(gaps, cur.FinishedAt.Sub(prev.FinishedAt))
		}
	}
	return gaps
}

// percentile returns the p-th percentile of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// BenchmarkSingleRowCommit is the ceiling beside BenchmarkNoopNodes: the
// rate of small single-row transactions (an upsert of one meta row) the
// same database commits, from one goroutine and from eight.
func BenchmarkSingleRowCommit(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/writers=%d", backend, writers), func(b *testing.B) {
				db := openBench(b, backend)
				ctx := context.Background()
				b.SetParallelism(writers)
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					key := "bench-" + fmt.Sprint(time.Now().UnixNano())
					for pb.Next() {
						if _, err := db.MetaPut(ctx, key, "v"); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "commits/s")
			})
		}
	}
}

// openBench opens a fresh migrated store of a backend.
func openBench(b *testing.B, backend string) store.Store {
	if backend == "postgres" {
		return storetest.Postgres(b)
	}
	return storetest.SQLite(b)
}
