package scheduler

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Limits of an action's fields.
const (
	MaxNameLength        = 200
	MaxDescriptionLength = 5000
	MaxRetries           = 10
	MaxRetryDelaySec     = 86400
	MaxTimeoutSec        = 86400
	MaxTags              = 20
	MaxTagLength         = 50
)

// withDefaults sets the policies a new or updated action leaves out.
func withDefaults(a store.ScheduledAction) store.ScheduledAction {
	a.Status = cmp.Or(a.Status, store.ActionActive)
	a.OverlapPolicy = cmp.Or(a.OverlapPolicy, OverlapSkip)
	a.CatchupPolicy = cmp.Or(a.CatchupPolicy, "run_once")
	if a.CatchupWindowSec == 0 {
		a.CatchupWindowSec = int64(DefaultCatchupWindow / time.Second)
	}
	a.CatchupMax = cmpPositive(a.CatchupMax, DefaultCatchupMax)
	if a.TimeoutSec == 0 {
		a.TimeoutSec = int64(DefaultTimeout / time.Second)
	}
	return a
}

// Check returns everything wrong with an action a user sends (after
// defaults), each problem named by its API field.
func (s *Scheduler) Check(ctx context.Context, a store.ScheduledAction) []gathering.FieldError {
	var ps []gathering.FieldError
	add := func(field, format string, args ...any) {
		ps = append(ps, gathering.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if n := len([]rune(a.Name)); n < 1 || n > MaxNameLength {
		add("name", "must be 1 to %d characters", MaxNameLength)
	}
	if len([]rune(a.Description)) > MaxDescriptionLength {
		add("description", "at most %d characters", MaxDescriptionLength)
	}
	ps = append(ps, SpecOf(a).Validate()...)
	if a.ScheduleType == store.ScheduleOnce && !a.RunAt.IsZero() && a.Status == store.ActionActive &&
		time.Since(a.RunAt) > catchUp(a).Window {
		add("run_at", "is further in the past than the catch-up window (%d s), so it would never run", a.CatchupWindowSec)
	}
	ps = append(ps, checkTrigger(a)...)
	ps = append(ps, s.checkConfig(ctx, a)...)
	ps = append(ps, checkPolicies(a)...)
	return ps
}

// checkPolicies checks the status, the policies and the limits.
func checkPolicies(a store.ScheduledAction) []gathering.FieldError {
	var ps []gathering.FieldError
	oneOf := func(field, v string, allowed ...string) {
		if !slices.Contains(allowed, v) {
			ps = append(ps, gathering.FieldError{Field: field, Message: "must be one of " + strings.Join(allowed, ", ")})
		}
	}
	within := func(field string, v, lo, hi int64) {
		if v < lo || v > hi {
			ps = append(ps, gathering.FieldError{Field: field, Message: fmt.Sprintf("must be between %d and %d", lo, hi)})
		}
	}
	oneOf("status", a.Status, store.ActionActive, store.ActionPaused, store.ActionDisabled)
	oneOf("overlap_policy", a.OverlapPolicy, OverlapSkip, OverlapQueueOne, OverlapAllow)
	oneOf("catchup_policy", a.CatchupPolicy, "skip", "run_once", "run_all")
	within("catchup_window_seconds", a.CatchupWindowSec, 1, 7*86400)
	within("catchup_max", int64(a.CatchupMax), 1, 1000)
	within("max_retries", int64(a.MaxRetries), 0, MaxRetries)
	within("retry_delay_seconds", a.RetryDelaySec, 0, MaxRetryDelaySec)
	within("pause_after_failures", int64(a.PauseAfterFailures), 0, 1000)
	within("timeout_seconds", a.TimeoutSec, 1, MaxTimeoutSec)
	within("max_executions", int64(a.MaxExecutions), 0, 1<<31-1)
	if len(a.Tags) > MaxTags {
		ps = append(ps, gathering.FieldError{Field: "tags", Message: fmt.Sprintf("at most %d tags", MaxTags)})
	}
	for i, t := range a.Tags {
		if n := len([]rune(t)); n < 1 || n > MaxTagLength {
			ps = append(ps, gathering.FieldError{Field: fmt.Sprintf("tags/%d", i), Message: fmt.Sprintf("must be 1 to %d characters", MaxTagLength)})
		}
	}
	return ps
}

// checkConfig checks action_config against its action type: the notify
// and http tools' input schemas, or a pipeline that exists.
func (s *Scheduler) checkConfig(ctx context.Context, a store.ScheduledAction) []gathering.FieldError {
	field := func(msg string) []gathering.FieldError {
		return []gathering.FieldError{{Field: "action_config", Message: msg}}
	}
	switch a.ActionType {
	case store.ActionSendNotification, store.ActionCallAPI:
		name := map[string]string{store.ActionSendNotification: "notify.webhook", store.ActionCallAPI: "http.request"}[a.ActionType]
		t, ok := s.tools.Registry().Get(name)
		if !ok {
			return field("the " + name + " tool is not available on this server")
		}
		var out []gathering.FieldError
		for _, f := range gathering.ErrorFields(t.ValidateInput(a.ActionConfig)) {
			out = append(out, gathering.FieldError{Field: "action_config" + f.Field, Message: f.Message})
		}
		return out
	case store.ActionExecutePipeline:
		var cfg pipelineConfig
		if err := json.Unmarshal(a.ActionConfig, &cfg); err != nil || cfg.PipelineID < 1 {
			return field(`must be {"pipeline_id": <id>, "trigger_data"?: …}`)
		}
		if _, err := s.db.PipelineGet(ctx, cfg.PipelineID); err != nil {
			return []gathering.FieldError{{Field: "action_config/pipeline_id", Message: fmt.Sprintf("no pipeline has id %d", cfg.PipelineID)}}
		}
		return nil
	case store.ActionRunTask:
		return s.checkTask(ctx, a)
	}
	return []gathering.FieldError{{Field: "action_type", Message: "must be execute_pipeline, send_notification or call_api"}}
}

// checkTask checks a run_task action: the background task it asks for,
// its problems named by the action's fields.
func (s *Scheduler) checkTask(ctx context.Context, a store.ScheduledAction) []gathering.FieldError {
	if s.tasks == nil {
		return []gathering.FieldError{{Field: "action_type", Message: "run_task needs background agent tasks, which this server does not run"}}
	}
	n, err := newTask(a, store.ScheduleRun{})
	if err != nil {
		return []gathering.FieldError{{Field: "action_config", Message: `must be {"goal": "…", "max_steps"?, "timeout_seconds"?, "checkpoint_interval"?}`}}
	}
	var out []gathering.FieldError
	for _, f := range s.tasks.Check(ctx, n.WithDefaults()) {
		if f.Field != "agent_id" {
			f.Field = "action_config/" + f.Field
		}
		out = append(out, f)
	}
	return out
}

// prepared is a checked action with defaults and its next run.
func (s *Scheduler) prepared(ctx context.Context, a store.ScheduledAction, now time.Time) (store.ScheduledAction, error) {
	a = withDefaults(a)
	if ps := s.Check(ctx, a); len(ps) > 0 {
		return a, gathering.Invalid("The scheduled action is invalid.", ps...)
	}
	return scheduleNext(a, now), nil
}

// scheduleNext sets an active action's first firing from now (none when
// its schedule has no more: it expires); inactive and event actions have
// none.
func scheduleNext(a store.ScheduledAction, now time.Time) store.ScheduledAction {
	a.NextRunAt = time.Time{}
	if a.Status != store.ActionActive {
		return a
	}
	if a.ScheduleType == store.ScheduleEvent {
		return eventExpiry(a, now)
	}
	sch, err := SpecOf(a).Compile()
	if err != nil {
		return a
	}
	if next, ok := sch.First(now); ok {
		a.NextRunAt = next
	} else {
		a.Status = store.ActionExpired
	}
	return a
}

// Create checks and stores a new action created by userID and wakes every
// scheduler. Invalid actions are EINVALID with every field at fault.
func (s *Scheduler) Create(ctx context.Context, a store.ScheduledAction, userID int64) (store.ScheduledAction, error) {
	now := time.Now()
	a.CreatedBy, a.CreatedAt, a.UpdatedAt = userID, now, now
	a, err := s.prepared(ctx, a, now)
	if err != nil {
		return a, err
	}
	if a, err = s.db.ActionCreate(ctx, a); err == nil {
		s.announce(ctx, a.ID)
	}
	return a, err
}

// Update replaces an action (whose Version is the one the caller read)
// and reschedules it from now.
func (s *Scheduler) Update(ctx context.Context, a store.ScheduledAction) (store.ScheduledAction, error) {
	now := time.Now()
	a.UpdatedAt = now
	a, err := s.prepared(ctx, a, now)
	if err != nil {
		return a, err
	}
	if a, err = s.db.ActionUpdate(ctx, a); err == nil {
		s.announce(ctx, a.ID)
	}
	return a, err
}

// SetStatus pauses (paused, disabled) or resumes (active: rescheduled
// from now, its failure count reset) an action, effective at once on every
// instance.
func (s *Scheduler) SetStatus(ctx context.Context, id int64, status string) (store.ScheduledAction, error) {
	for {
		a, err := s.db.ActionGet(ctx, id)
		if err != nil {
			return a, err
		}
		a.Status, a.UpdatedAt = status, time.Now()
		if status == store.ActionActive {
			a.ConsecutiveFailures = 0
		}
		a, err = s.db.ActionUpdate(ctx, scheduleNext(a, a.UpdatedAt))
		if gathering.ErrorCode(err) == gathering.ECONFLICT {
			continue // a claim moved it on meanwhile: read it again
		}
		if err == nil {
			s.announce(ctx, id)
		}
		return a, err
	}
}

// Delete deletes an action and its runs.
func (s *Scheduler) Delete(ctx context.Context, id int64) error {
	err := s.db.ActionDelete(ctx, id)
	if err == nil {
		s.announce(ctx, id)
	}
	return err
}

// Trigger runs an action now, outside its schedule (a manual run), on this
// instance when it has room, else on whichever instance claims it first.
func (s *Scheduler) Trigger(ctx context.Context, id int64) (store.ScheduleRun, error) {
	now := time.Now()
	r := store.ScheduleRun{ID: event.NewID(now), ActionID: id, ScheduledFor: now, TriggeredBy: store.TriggeredByManual,
		Attempt: 1, Status: store.ScheduleRunPending}
	if s.room() {
		r.Status, r.Owner, r.Epoch, r.LeaseUntil, r.StartedAt = store.ScheduleRunRunning, s.opts.Instance, 1, now.Add(s.opts.Lease), now
	}
	r, err := s.db.ActionFire(ctx, r)
	if err != nil {
		return r, err
	}
	if r.Status == store.ScheduleRunRunning {
		s.execute(r)
	} else {
		s.announce(ctx, id)
	}
	return r, nil
}
