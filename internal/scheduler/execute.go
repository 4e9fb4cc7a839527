package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// writeTimeout bounds the records made after a run's context ended.
const writeTimeout = 10 * time.Second

// execute runs a run this instance holds in its own goroutine; a stopping
// scheduler releases it for another instance instead.
func (s *Scheduler) execute(r store.ScheduleRun) {
	ctx, cancel := context.WithCancelCause(context.Background())
	l := store.ScheduleLeaseOf(r)
	if !s.runs.Go(l, struct{}{}, cancel, func() { s.perform(ctx, l, r) }) {
		wctx, stop := context.WithTimeout(context.Background(), writeTimeout)
		defer stop()
		s.record(s.db.ScheduleRunRelease(wctx, l, time.Now()), r)
	}
}

// perform dispatches a run and records its outcome: completed, failed, or
// retried later while the action allows more attempts. A run that was
// waiting when its action was paused or disabled is skipped (a manual run
// still runs). A run cut off by
// shutdown is released for another instance; one whose lease was lost is
// left to its new owner.
func (s *Scheduler) perform(ctx context.Context, l store.Lease, r store.ScheduleRun) {
	a, err := s.db.ActionGet(ctx, r.ActionID)
	if err != nil {
		s.opts.Logger.Warn("a schedule run lost its action", "run_id", r.ID, "err", err)
		return
	}
	if (a.Status == store.ActionPaused || a.Status == store.ActionDisabled) && r.TriggeredBy != store.TriggeredByManual {
		r.Status, r.Error, r.FinishedAt = store.ScheduleRunSkipped, "The action is "+a.Status+".", time.Now()
		s.record(s.db.ScheduleRunFinish(ctx, l, r), r)
		return
	}
	s.publish(ctx, "started", a, r)
	dctx, stop := context.WithTimeoutCause(ctx, seconds(a.TimeoutSec, DefaultTimeout),
		gathering.Errorf(gathering.ETIMEOUT, "The action did not finish within %s.", seconds(a.TimeoutSec, DefaultTimeout)))
	result, err := s.dispatch(dctx, l, a, r)
	stop()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errShutdown):
		s.record(s.db.ScheduleRunRelease(wctx, l, time.Now()), r)
		return
	case errors.Is(cause, errLeaseLost):
		return
	}
	if err != nil {
		if at, ok := retryAt(a, r, time.Now()); ok {
			s.record(s.db.ScheduleRunRetry(wctx, l, at), r)
			return
		}
	}
	r = outcome(r, result, err)
	if s.record(s.db.ScheduleRunFinish(wctx, l, r), r) {
		s.publish(wctx, r.Status, a, r)
	}
}

// outcome is r finished by the dispatch's result or error.
func outcome(r store.ScheduleRun, result json.RawMessage, err error) store.ScheduleRun {
	r.FinishedAt, r.Result = time.Now(), result
	if err != nil {
		r.Status, r.Error = store.ScheduleRunFailed, gathering.ErrorMessage(err)
	} else {
		r.Status = store.ScheduleRunCompleted
	}
	return r
}

// record logs a failed record and reports whether it succeeded.
func (s *Scheduler) record(err error, r store.ScheduleRun) bool {
	if err != nil {
		s.opts.Logger.Warn("recording a schedule run failed", "run_id", r.ID, "err", err)
	}
	return err == nil
}

// idempotencyKey is the key of an occurrence's side effects.
func idempotencyKey(r store.ScheduleRun) string {
	return strconv.FormatInt(r.ActionID, 10) + ":" + r.ScheduledFor.UTC().Format(time.RFC3339Nano)
}

// actionTopic is the topic of an action's events.
func actionTopic(id int64) string { return "scheduled_action:" + strconv.FormatInt(id, 10) }

// publish announces schedule.run.<status> for r, with its depth, from
// which the event actions it fires count theirs.
func (s *Scheduler) publish(ctx context.Context, status string, a store.ScheduledAction, r store.ScheduleRun) {
	if s.bus == nil {
		return
	}
	data, _ := json.Marshal(map[string]any{
		"action_id": a.ID, "run_id": r.ID, "scheduled_for": r.ScheduledFor, "attempt": r.Attempt,
		"triggered_by": r.TriggeredBy, "status": status, "error": r.Error, "depth": r.Depth,
	})
	_, err := s.bus.Publish(context.WithoutCancel(ctx), event.Event{Type: "schedule.run." + status,
		Topics: []string{actionTopic(a.ID)}, Data: data})
	if err != nil {
		s.opts.Logger.Warn("publishing a schedule event failed", "run_id", r.ID, "err", err)
	}
}

// callerOf is the role the action's creator has now, whose rights its
// tool calls have: viewer when the creator is gone or inactive.
func (s *Scheduler) callerOf(ctx context.Context, a store.ScheduledAction) tool.Caller {
	u, err := s.db.UserGetByID(ctx, a.CreatedBy)
	if a.CreatedBy == 0 || err != nil || !u.IsActive {
		return tool.UserCaller(gathering.RoleViewer)
	}
	return tool.UserCaller(u.Role)
}
