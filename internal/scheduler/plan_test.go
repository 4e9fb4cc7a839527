package scheduler

import (
	"testing"
	"time"

	"github.com/gathering/gathering/internal/store"
)

// at is a fixed UTC time on 2026-06-01.
func at(hour, minute int) time.Time { return time.Date(2026, 6, 1, hour, minute, 0, 0, time.UTC) }

// hourly is an active action firing at minute 0 of every hour, due at 10:00.
func hourly() store.ScheduledAction {
	return withDefaults(store.ScheduledAction{ID: 7, ScheduleType: store.ScheduleCron, CronExpression: "0 * * * *",
		NextRunAt: at(10, 0), ExecutionCount: 3})
}

func scheduledFor(p store.ClaimPlan) []time.Time {
	var out []time.Time
	for _, r := range p.Runs {
		out = append(out, r.ScheduledFor)
	}
	return out
}

func TestPlanOnTime(t *testing.T) {
	skip := hourly()
	skip.CatchupPolicy = "skip"
	for _, late := range []time.Duration{0, 30 * time.Second} {
		if p := plan(skip, 0, at(10, 0).Add(late), true); len(p.Runs) != 1 {
			t.Errorf("skip runs an occurrence %s late: %+v", late, p.Runs)
		}
	}
	if p := plan(skip, 0, at(10, 2), true); len(p.Runs) != 0 || !p.NextRunAt.Equal(at(11, 0)) {
		t.Errorf("skip drops an occurrence two minutes late: %+v", p)
	}
	p := plan(hourly(), 0, at(10, 0), true)
	if len(p.Runs) != 1 || !p.Runs[0].ScheduledFor.Equal(at(10, 0)) || p.Runs[0].Status != store.ScheduleRunRunning {
		t.Fatalf("runs %+v", p.Runs)
	}
	if !p.NextRunAt.Equal(at(11, 0)) || p.Status != store.ActionActive || p.ExecutionsDone != 1 {
		t.Errorf("plan %+v", p)
	}
	if p := plan(hourly(), 0, at(10, 0), false); p.Runs[0].Status != store.ScheduleRunPending {
		t.Errorf("without room the run waits: %s", p.Runs[0].Status)
	}
}

// TestPlanCatchUp: the scheduler comes back at 10:10 after five hours of
// downtime, with each policy.
func TestPlanCatchUp(t *testing.T) {
	a := hourly()
	a.NextRunAt = at(5, 0) // due since 05:00; now is 10:10
	for _, c := range []struct {
		policy string
		window int64
		max    int
		want   []time.Time
	}{
		{"skip", 3600 * 24, 10, nil},
		{"run_once", 3600 * 24, 10, []time.Time{at(10, 0)}},
		{"run_all", 3600 * 24, 10, []time.Time{at(5, 0), at(6, 0), at(7, 0), at(8, 0), at(9, 0), at(10, 0)}},
		{"run_all", 3600 * 24, 2, []time.Time{at(9, 0), at(10, 0)}},
		{"run_all", 3 * 3600, 10, []time.Time{at(8, 0), at(9, 0), at(10, 0)}},
		{"run_once", 60, 10, nil}, // 10:00 is older than the shortest window, a minute
	} {
		a.CatchupPolicy, a.CatchupWindowSec, a.CatchupMax = c.policy, c.window, c.max
		p := plan(a, 0, at(10, 10), true)
		if got := scheduledFor(p); !equalTimes(got, c.want) || !p.NextRunAt.Equal(at(11, 0)) || p.ExecutionsDone != len(c.want) {
			t.Errorf("%s window %ds max %d: runs %v next %v done %d, want %v", c.policy, c.window, c.max, got, p.NextRunAt, p.ExecutionsDone, c.want)
		}
	}
}

// TestPlanAfterTenMinutesOfDowntime: an every-minute action last claimed
// for 10:00 sees the instances come back at 10:10:30. run_once runs one
// occurrence, the latest; skip runs none of the missed ones (10:10 is
// thirty seconds late, on time); run_all runs them all up to its cap.
func TestPlanAfterTenMinutesOfDowntime(t *testing.T) {
	a := withDefaults(store.ScheduledAction{ID: 8, ScheduleType: store.ScheduleCron, CronExpression: "* * * * *", NextRunAt: at(10, 1)})
	back := at(10, 10).Add(30 * time.Second)
	for _, c := range []struct {
		policy string
		want   []time.Time
	}{
		{"run_once", []time.Time{at(10, 10)}},
		{"skip", []time.Time{at(10, 10)}},
		{"run_all", []time.Time{at(10, 1), at(10, 2), at(10, 3), at(10, 4), at(10, 5), at(10, 6), at(10, 7), at(10, 8), at(10, 9), at(10, 10)}},
	} {
		a.CatchupPolicy = c.policy
		p := plan(a, 0, back, true)
		if got := scheduledFor(p); !equalTimes(got, c.want) || !p.NextRunAt.Equal(at(10, 11)) {
			t.Errorf("%s: runs %v, next %v; want %v, next 10:11", c.policy, got, p.NextRunAt, c.want)
		}
	}
}

func equalTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

func TestPlanOverlap(t *testing.T) {
	for _, c := range []struct {
		policy     string
		unfinished int
		want       string
	}{
		{OverlapSkip, 0, store.ScheduleRunRunning},
		{OverlapSkip, 1, store.ScheduleRunSkipped},
		{OverlapQueueOne, 1, store.ScheduleRunPending},
		{OverlapQueueOne, 2, store.ScheduleRunSkipped},
		{OverlapAllow, 3, store.ScheduleRunRunning},
	} {
		a := hourly()
		a.OverlapPolicy = c.policy
		p := plan(a, c.unfinished, at(10, 0), true)
		if got := p.Runs[0].Status; got != c.want {
			t.Errorf("%s with %d unfinished: %s, want %s", c.policy, c.unfinished, got, c.want)
		}
		if skipped := c.want == store.ScheduleRunSkipped; skipped != (p.ExecutionsDone == 0) || skipped && p.Runs[0].FinishedAt.IsZero() {
			t.Errorf("%s: a skipped run counts no execution and is finished: %+v", c.policy, p)
		}
	}
}

func TestPlanExpiry(t *testing.T) {
	a := hourly()
	a.MaxExecutions = 4 // 3 done: this is the last
	if p := plan(a, 0, at(10, 0), true); len(p.Runs) != 1 || p.Status != store.ActionExpired || !p.NextRunAt.IsZero() {
		t.Errorf("max_executions: %+v", p)
	}
	a.MaxExecutions, a.CatchupPolicy, a.NextRunAt = 5, "run_all", at(6, 0) // five due, two left
	if p := plan(a, 0, at(10, 0), true); len(p.Runs) != 2 || p.Status != store.ActionExpired {
		t.Errorf("max_executions with catch-up: %d runs, %s", len(p.Runs), p.Status)
	}
	once := withDefaults(store.ScheduledAction{ScheduleType: store.ScheduleOnce, RunAt: at(10, 0), NextRunAt: at(10, 0)})
	if p := plan(once, 0, at(10, 0), true); len(p.Runs) != 1 || p.Status != store.ActionExpired {
		t.Errorf("once: %+v", p)
	}
	ending := hourly()
	ending.EndDate = at(10, 30)
	if p := plan(ending, 0, at(10, 0), true); len(p.Runs) != 1 || p.Status != store.ActionExpired {
		t.Errorf("end date: %+v", p)
	}
	every := withDefaults(store.ScheduledAction{ScheduleType: store.ScheduleInterval, IntervalSec: 90,
		StartDate: at(9, 0), NextRunAt: at(10, 0)})
	if p := plan(every, 0, at(10, 0), true); !p.NextRunAt.Equal(at(10, 0).Add(90 * time.Second)) {
		t.Errorf("interval: next %v", p.NextRunAt)
	}
}

func TestRetryAtIsBounded(t *testing.T) {
	a := hourly()
	a.MaxRetries, a.RetryDelaySec = 2, 30
	for attempt, want := range map[int]bool{1: true, 2: true, 3: false} {
		when, ok := retryAt(a, store.ScheduleRun{Attempt: attempt}, at(10, 0))
		if ok != want || ok && !when.Equal(at(10, 0).Add(30*time.Second)) {
			t.Errorf("attempt %d: %v %v", attempt, when, ok)
		}
	}
}
