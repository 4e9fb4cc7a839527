package scheduler_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/scheduler"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
)

// countingStore counts the scheduler loop's queries.
type countingStore struct {
	store.Store
	calls atomic.Int64
}

func (c *countingStore) ActionNextDue(ctx context.Context) (time.Time, error) {
	c.calls.Add(1)
	return c.Store.ActionNextDue(ctx)
}

func (c *countingStore) ActionClaimDue(ctx context.Context, now time.Time, limit int, owner string, leaseUntil time.Time,
	plan func(store.ScheduledAction, int) store.ClaimPlan) ([]store.ScheduleRun, error) {
	c.calls.Add(1)
	return c.Store.ActionClaimDue(ctx, now, limit, owner, leaseUntil, plan)
}

func (c *countingStore) ScheduleRunClaim(ctx context.Context, owner string, now, leaseUntil time.Time) (store.ScheduleRun, error) {
	c.calls.Add(1)
	return c.Store.ScheduleRunClaim(ctx, owner, now, leaseUntil)
}

// TestIdleSchedulerBarelyQueries: a scheduler whose only action fires in a
// day makes its first pass and then sleeps (a heartbeat every 10 s with
// the default lease), not a busy poll.
func TestIdleSchedulerBarelyQueries(t *testing.T) {
	t.Parallel()
	db := &countingStore{Store: storetest.SQLite(t)}
	r := newRigOn(t, db, true, scheduler.Options{Lease: scheduler.DefaultLease})
	recv := newReceiver(t)
	r.create(t, store.ScheduledAction{Name: "daily", ActionType: store.ActionCallAPI, ActionConfig: callAPI(recv.URL),
		ScheduleType: store.ScheduleCron, CronExpression: "0 3 * * *"})
	quiet(t, &db.calls) // the creation's wake-up passes, however busy the machine
	before := db.calls.Load()
	time.Sleep(3 * time.Second)
	if n := db.calls.Load() - before; n > 0 {
		t.Errorf("an idle scheduler made %d queries in 3 s", n)
	}
}

// quiet waits until calls stays unchanged for half a second, failing the
// test when it keeps changing for 10 s.
func quiet(t *testing.T, calls *atomic.Int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		n := calls.Load()
		time.Sleep(500 * time.Millisecond)
		if calls.Load() == n {
			return
		}
	}
	t.Fatal("the scheduler never went quiet")
}

// BenchmarkClaimDue reports how many due occurrences instances claim per
// second on PostgreSQL: b.N actions all due at once (as after downtime),
// claimed by one and by three concurrent claimers (instances) until none is
// left; every occurrence is claimed exactly once.
func BenchmarkClaimDue(b *testing.B) {
	for _, instances := range []int{1, 3} {
		b.Run(fmt.Sprintf("instances=%d", instances), func(b *testing.B) {
			db := storetest.Postgres(b)
			r := newRigOn(b, db, false, scheduler.Options{Lease: scheduler.DefaultLease})
			if err := r.sched.Stop(context.Background()); err != nil { // the claimers below stand in for it
				b.Fatal(err)
			}
			for i := range b.N {
				r.create(b, store.ScheduledAction{Name: fmt.Sprint("a", i), ActionType: store.ActionCallAPI,
					ActionConfig: callAPI("http://127.0.0.1:1/"), ScheduleType: store.ScheduleCron, CronExpression: "0 3 * * *",
					Status: store.ActionPaused})
			}
			activateAll(b, db, time.Now().Add(-time.Second))
			b.ResetTimer()
			start := time.Now()
			var claimed atomic.Int64
			var wg sync.WaitGroup
			for i := range instances {
				wg.Go(func() { claimed.Add(int64(claimAll(b, db, fmt.Sprint("bench-", i)))) })
			}
			wg.Wait()
			elapsed := time.Since(start)
			if claimed.Load() != int64(b.N) {
				b.Fatalf("%d occurrences claimed, want %d", claimed.Load(), b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "claims/s")
		})
	}
}

// claimAll claims due occurrences as owner until none is left, and
// returns how many it claimed.
func claimAll(b *testing.B, db store.Store, owner string) int {
	n := 0
	for {
		now := time.Now()
		runs, err := db.ActionClaimDue(context.Background(), now, 100, owner, now.Add(time.Minute),
			func(a store.ScheduledAction, _ int) store.ClaimPlan {
				return store.ClaimPlan{Status: store.ActionActive, NextRunAt: a.NextRunAt.Add(24 * time.Hour), ExecutionsDone: 1,
					Runs: []store.ScheduleRun{{ID: event.NewID(now), ActionID: a.ID, ScheduledFor: a.NextRunAt, Status: store.ScheduleRunRunning}}}
			})
		if err != nil {
			b.Error(err)
			return n
		}
		if len(runs) == 0 {
			return n
		}
		n += len(runs)
	}
}

// activateAll makes every action active and due at due.
func activateAll(b *testing.B, db store.Store, due time.Time) {
	for offset := 0; ; offset += 500 {
		page, _, err := db.ActionList(context.Background(), store.ActionFilter{}, store.Page{Limit: 500, Offset: offset})
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range page {
			a.Status, a.NextRunAt = store.ActionActive, due
			if _, err := db.ActionUpdate(context.Background(), a); err != nil {
				b.Fatal(err)
			}
		}
		if len(page) < 500 {
			return
		}
	}
}

// BenchmarkDispatchLag measures, on PostgreSQL with 10,000 active actions,
// how late occurrences start: 50 of the actions call a local API every
// second for 10 s, the others fire once a day. It reports the lag from
// scheduled_for to the run's start, p50 and p99. Run it with -benchtime 1x.
func BenchmarkDispatchLag(b *testing.B) {
	const idle, busy, seconds = 9950, 50, 10
	db := storetest.Postgres(b)
	r := newRigOn(b, db, false, scheduler.Options{Lease: scheduler.DefaultLease})
	recv := newReceiver(b)
	for i := range idle {
		r.create(b, store.ScheduledAction{Name: fmt.Sprint("daily-", i), ActionType: store.ActionCallAPI,
			ActionConfig: callAPI(recv.URL), ScheduleType: store.ScheduleCron, CronExpression: fmt.Sprintf("%d %d * * *", i%60, 3+i%3)})
	}
	var ids []int64
	b.ResetTimer()
	for i := range busy {
		ids = append(ids, r.create(b, store.ScheduledAction{Name: fmt.Sprint("busy-", i), ActionType: store.ActionCallAPI,
			ActionConfig: callAPI(recv.URL), ScheduleType: store.ScheduleInterval, IntervalSec: 1}).ID)
	}
	time.Sleep(seconds * time.Second)
	b.StopTimer()
	var lags []time.Duration
	for _, id := range ids {
		for _, run := range r.runs(b, id) {
			if !run.StartedAt.IsZero() && run.TriggeredBy == store.TriggeredByScheduler {
				lags = append(lags, run.StartedAt.Sub(run.ScheduledFor))
			}
		}
	}
	if len(lags) < busy*(seconds-2) {
		b.Fatalf("only %d occurrences started", len(lags))
	}
	slices.Sort(lags)
	b.ReportMetric(float64(len(lags)), "occurrences")
	b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-ms")
}
