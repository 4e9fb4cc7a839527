package circle_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
)

// BenchmarkCircleDetail loads a circle with its members, their agents and
// personas (one query), with 20 and 200 members, on both backends:
//
//	go test -run '^$' -bench CircleDetail ./internal/circle/
func BenchmarkCircleDetail(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		for _, n := range []int{20, 200} {
			b.Run(fmt.Sprintf("%s/members=%d", backend.name, n), func(b *testing.B) {
				db := backend.open(b)
				name := seedCircle(b, db, n)
				b.ReportAllocs()
				for b.Loop() {
					d, err := db.CircleDetail(context.Background(), name)
					if err != nil || len(d.Members) != n {
						b.Fatalf("CircleDetail: %d members, %v", len(d.Members), err)
					}
				}
			})
		}
	}
}

// seedCircle creates a circle of n members, each with a task assigned, and
// returns its name.
func seedCircle(b testing.TB, db store.Store, n int) string {
	ctx, now := context.Background(), time.Now()
	p, err := db.PersonaCreate(ctx, store.Persona{DisplayName: "Bencher", Role: "engineer", CreatedAt: now, UpdatedAt: now})
	if err != nil {
		b.Fatal(err)
	}
	c, err := db.CircleCreate(ctx, store.Circle{Name: "bench", MaxConcurrentTasks: 100, Status: store.CircleStopped, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		a, err := db.AgentCreate(ctx, store.Agent{Name: fmt.Sprintf("agent-%03d", i), PersonaID: p.ID, Provider: "p", Model: "m",
			Competencies: []string{"go", "sql"}, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.CircleMemberAdd(ctx, store.CircleMember{CircleID: c.ID, AgentID: a.ID, Competencies: []string{"go"}, JoinedAt: now}, n); err != nil {
			b.Fatal(err)
		}
		if i < 100 {
			t, err := db.CircleTaskCreate(ctx, store.CircleTask{CircleID: c.ID, Title: "t", Priority: 5, CreatedAt: now, UpdatedAt: now})
			if err != nil {
				b.Fatal(err)
			}
			t.Status, t.AssignedAgentID = store.TaskAssigned, a.ID
			if _, err := db.CircleTaskChange(ctx, store.CircleTaskChange{Task: t, From: store.TaskPending}); err != nil {
				b.Fatal(err)
			}
		}
	}
	return c.Name
}
