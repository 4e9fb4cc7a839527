package scheduler

import (
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/schedule"
	"github.com/gathering/gathering/internal/store"
)

// The overlap policies: what a due occurrence does while an earlier one of
// the same action is unfinished.
const (
	OverlapSkip     = "skip"      // it is recorded as skipped
	OverlapQueueOne = "queue_one" // it waits, pending, unless one already waits
	OverlapAllow    = "allow"     // it runs alongside
)

// Defaults of an action's policies.
const (
	DefaultCatchupWindow = time.Hour
	DefaultCatchupMax    = 10
)

// SpecOf is the schedule of an action.
func SpecOf(a store.ScheduledAction) schedule.Spec {
	return schedule.Spec{
		Type: a.ScheduleType, Cron: a.CronExpression, TimeZone: a.TimeZone, IntervalSeconds: a.IntervalSec,
		RunAt: a.RunAt, StartDate: a.StartDate, EndDate: a.EndDate,
	}
}

// plan decides what a due action does at now: which missed occurrences
// run under its catch-up policy, how each meets its overlap policy, its
// next occurrence, and whether it expires (once, end date,
// max_executions). unfinished counts its runs unfinished before this claim
// (the occurrences of one claim, as run_all catches up, do not overlap each
// other); without room this instance starts nothing more, so runs are
// recorded pending for any instance to claim. It is pure: the tests drive
// it with fixed times.
func plan(a store.ScheduledAction, unfinished int, now time.Time, room bool) store.ClaimPlan {
	p := store.ClaimPlan{Status: a.Status}
	sch, err := SpecOf(a).Compile()
	if err != nil { // a schedule that no longer compiles stops firing
		p.Status = store.ActionDisabled
		return p
	}
	due, next, ok := sch.Missed(a.NextRunAt, now, catchUp(a))
	if ok {
		p.NextRunAt = next
	}
	if left := a.MaxExecutions - a.ExecutionCount; a.MaxExecutions > 0 && len(due) >= left {
		due, ok = due[:max(left, 0)], false
		p.NextRunAt = time.Time{}
	}
	if !ok {
		p.Status = store.ActionExpired
	}
	for _, at := range due {
		r := store.ScheduleRun{ID: event.NewID(now), ActionID: a.ID, ScheduledFor: at, Status: overlap(a.OverlapPolicy, unfinished, room)}
		if r.Status == store.ScheduleRunSkipped {
			r.FinishedAt, r.Error = now, "The previous occurrence was still running (overlap_policy "+a.OverlapPolicy+")."
		} else {
			p.ExecutionsDone++
		}
		p.Runs = append(p.Runs, r)
	}
	return p
}

// onTime is how late an occurrence may be claimed and still count as on
// time, not missed: it runs whatever the catch-up policy.
const onTime = time.Minute

// catchUp is the action's catch-up policy as Missed applies it: skip still
// runs an occurrence that is on time, and no window is shorter than onTime.
func catchUp(a store.ScheduledAction) schedule.CatchUp {
	c := schedule.CatchUp{
		Policy: a.CatchupPolicy,
		Window: max(seconds(a.CatchupWindowSec, DefaultCatchupWindow), onTime),
		Max:    cmpPositive(a.CatchupMax, DefaultCatchupMax),
	}
	if c.Policy == schedule.CatchUpSkip {
		c.Policy, c.Window = schedule.CatchUpRunOnce, onTime
	}
	return c
}

// overlap is the status a due occurrence starts in under policy, with
// unfinished earlier runs.
func overlap(policy string, unfinished int, room bool) string {
	switch {
	case unfinished > 0 && policy == OverlapQueueOne && unfinished == 1:
		return store.ScheduleRunPending
	case unfinished > 0 && policy != OverlapAllow:
		return store.ScheduleRunSkipped
	case !room:
		return store.ScheduleRunPending
	}
	return store.ScheduleRunRunning
}

// retryAt is when a failed run of a is tried again, or false when its
// retries are spent.
func retryAt(a store.ScheduledAction, r store.ScheduleRun, now time.Time) (time.Time, bool) {
	if r.Attempt > a.MaxRetries {
		return time.Time{}, false
	}
	return now.Add(time.Duration(a.RetryDelaySec) * time.Second), true
}

// seconds converts whole seconds to a duration, or fallback when not
// positive.
func seconds(s int64, fallback time.Duration) time.Duration {
	if s <= 0 {
		return fallback
	}
	return time.Duration(s) * time.Second
}

// cmpPositive returns v, or fallback when v is not positive.
func cmpPositive(v, fallback int) int {
	if v <= 0 {
		return fallback
	}
	return v
}
