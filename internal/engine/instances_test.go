package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/pgstore"
	"github.com/gathering/gathering/internal/store/pgtest"
)

// tenNodes is a pipeline of ten nodes: a trigger fanning out to two
// chains of four echo nodes that join at the end.
func tenNodes() (nodes, edges string) {
	ns := []string{`{"id": "start", "type": "trigger"}`, `{"id": "end", "type": "join"}`}
	var es []string
	for _, c := range chains {
		for i := range 4 {
			id := fmt.Sprintf("%s%d", c, i)
			ns = append(ns, `{"id": "`+id+`", "type": "tool", "config": {"tool": "test.echo", "input": {"at": "`+id+`"}}}`)
			from := "start"
			if i > 0 {
				from = fmt.Sprintf("%s%d", c, i-1)
			}
			es = append(es, fmt.Sprintf(`{"id": "e_%s", "from": %q, "to": %q}`, id, from, id))
		}
		es = append(es, fmt.Sprintf(`{"id": "j_%s", "from": "%s3", "to": "end"}`, c, c))
	}
	return "[" + strings.Join(ns, ",") + "]", "[" + strings.Join(es, ",") + "]"
}

// chains names the two chains of tenNodes.
var chains = []string{"a", "b"}

// TestTwoInstancesRunEveryNodeOnce has two engines, each with its own
// connection pool, on one PostgreSQL database execute 100 runs of a
// 10-node pipeline submitted through both: every tool node runs exactly
// once, and both instances take part.
func TestTwoInstancesRunEveryNodeOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	a := newRig(t, rigOptions{db: openPostgres(t, url), instance: "instance-a"})
	b := newRig(t, rigOptions{db: openPostgres(t, url), instance: "instance-b"})
	nodes, edges := tenNodes()
	p := a.pipeline(t, nodes, edges, "")
	const runs = 100
	ids := make([]string, 0, runs)
	for i := range runs {
		r := a
		if i%2 == 1 {
			r = b
		}
		ids = append(ids, r.submit(t, p, fmt.Sprintf(`{"i": %d}`, i)).ID)
	}
	for _, id := range ids {
		if run := a.wait(t, id, time.Minute, store.RunStatus.Final); run.Status != store.RunCompleted {
			t.Fatalf("run %s: %s %s", id, run.Status, run.Error)
		}
	}
	for _, id := range ids {
		for _, c := range chains {
			for i := range 4 {
				key := fmt.Sprintf("%s:%s%d", id, c, i)
				if n := a.probe.count(key) + b.probe.count(key); n != 1 {
					t.Fatalf("%s ran %d times", key, n)
				}
			}
		}
		if got := len(a.latest(t, id)); got != 10 {
			t.Fatalf("run %s has %d nodes recorded", id, got)
		}
	}
	if a.probe.total() == 0 || b.probe.total() == 0 {
		t.Errorf("one instance did all the work: %d and %d calls", a.probe.total(), b.probe.total())
	}
	t.Logf("instance a ran %d nodes, b %d", a.probe.total(), b.probe.total())
}

// openPostgres opens a migrated store on the database at url; it is closed
// when the test ends.
func openPostgres(t *testing.T, url string) store.Store {
	t.Helper()
	db, err := pgstore.Open(context.Background(), pgstore.Config{URL: url, MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}
