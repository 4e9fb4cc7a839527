package pgstore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/pgstore"
	"github.com/gathering/gathering/internal/store/pgtest"
)

// TestActionClaimDueSkipsALockedAction holds the advisory lock of one due
// action from another session: ActionClaimDue passes over it without
// waiting and claims the other, then claims it once the lock is released.
func TestActionClaimDueSkipsALockedAction(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	s := open(t, dbURL)
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	locked, free := dueAction(t, s, "locked", now.Add(-2*time.Minute)), dueAction(t, s, "free", now.Add(-time.Minute))
	other, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatalf("connect a second session: %v", err)
	}
	t.Cleanup(func() { _ = other.Close(context.Background()) })
	if _, err := other.Exec(t.Context(), `SELECT pg_advisory_lock(`+pgstore.ScheduleLockKey+`)`, locked.ID); err != nil {
		t.Fatalf("take the action's lock: %v", err)
	}
	var planned []int64
	plan := func(a store.ScheduledAction, _ int) store.ClaimPlan {
		planned = append(planned, a.ID)
		return store.ClaimPlan{Runs: []store.ScheduleRun{{ID: a.Name, ScheduledFor: a.NextRunAt, Status: store.ScheduleRunRunning}},
			NextRunAt: a.NextRunAt.Add(time.Hour), Status: store.ActionActive, ExecutionsDone: 1}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // a claim that waited for the lock would fail
	defer cancel()
	runs, err := s.ActionClaimDue(ctx, now, 10, "instance-a", now.Add(time.Minute), plan)
	if err != nil || len(runs) != 1 || runs[0].ActionID != free.ID || len(planned) != 1 {
		t.Fatalf("ActionClaimDue with one action locked = %+v, %v (planned %v); want only the run of action %d",
			runs, err, planned, free.ID)
	}
	if got, err := s.ActionGet(t.Context(), locked.ID); err != nil || got.Version != 1 || got.ExecutionCount != 0 {
		t.Errorf("the locked action after the claim: %+v, %v; want it unchanged", got, err)
	}
	if _, err := other.Exec(t.Context(), `SELECT pg_advisory_unlock(`+pgstore.ScheduleLockKey+`)`, locked.ID); err != nil {
		t.Fatalf("release the action's lock: %v", err)
	}
	runs, err = s.ActionClaimDue(ctx, now, 10, "instance-a", now.Add(time.Minute), plan)
	if err != nil || len(runs) != 1 || runs[0].ActionID != locked.ID {
		t.Errorf("ActionClaimDue after the lock was released = %+v, %v; want the run of action %d", runs, err, locked.ID)
	}
}

// dueAction creates an active hourly action due at next, or fails the
// test.
func dueAction(t *testing.T, s store.Store, name string, next time.Time) store.ScheduledAction {
	t.Helper()
	a, err := s.ActionCreate(t.Context(), store.ScheduledAction{
		Name: name, ActionType: store.ActionRunTask, ActionConfig: json.RawMessage(`{}`),
		ScheduleType: store.ScheduleInterval, IntervalSec: 3600, Status: store.ActionActive, OverlapPolicy: "allow",
		CatchupPolicy: "skip", NextRunAt: next, CreatedAt: next, UpdatedAt: next,
	})
	if err != nil {
		t.Fatalf("ActionCreate(%s): %v", name, err)
	}
	return a
}
