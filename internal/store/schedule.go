package store

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/gathering"
)

// ScheduleStore keeps scheduled actions and the runs of their occurrences.
//
// An occurrence is materialised exactly once: ActionClaimDue takes due
// actions one transaction at a time, and in that transaction inserts the
// occurrence's run under UNIQUE (action_id, scheduled_for) and advances the
// action's next_run_at, all or nothing. On PostgreSQL the transaction also
// takes pg_try_advisory_xact_lock on the action and skips the action when
// it cannot (fail closed on error). A run is then executed by the instance
// holding its lease (owner, epoch, lease_until), renewed by heartbeats; a
// run whose lease ended is reclaimed by ScheduleRunClaim on any instance, as
// a new attempt. Writes that name a lease apply only while it holds (the run
// is running with that owner and epoch): ECONFLICT when it no longer does,
// ENOTFOUND when there is no such run. The caller chooses a run's ID.
type ScheduleStore interface {
	// ActionCreate inserts an action and returns it with its id, version 1;
	// every other field is stored as given. EINVALID when its JSON is not
	// valid (action_config must be an object, event_trigger nil or an
	// object, tags valid UTF-8) or a status, type or policy is unknown.
	ActionCreate(ctx context.Context, a ScheduledAction) (ScheduledAction, error)
	// ActionGet returns an action or ENOTFOUND.
	ActionGet(ctx context.Context, id int64) (ScheduledAction, error)
	// ActionList returns a page of actions by id and the total; the filter's
	// zero fields match everything, Tag matches the actions whose Tags hold
	// it. EINVALID for an unknown status or action type.
	ActionList(ctx context.Context, f ActionFilter, p Page) ([]ScheduledAction, int, error)
	// ActionUpdate replaces every field a user may change (and NextRunAt,
	// Status) only while the stored version is a.Version, and returns the
	// action with the next version: ENOTFOUND, or ECONFLICT when it was
	// changed meanwhile (the scheduler's claims and finished runs change it
	// too). It writes every field but ID, LastRunAt, ExecutionCount,
	// CreatedBy and CreatedAt: ConsecutiveFailures too, so that resuming a
	// paused action can reset it. EINVALID as ActionCreate.
	ActionUpdate(ctx context.Context, a ScheduledAction) (ScheduledAction, error)
	// ActionDelete deletes an action and its runs; ENOTFOUND.
	ActionDelete(ctx context.Context, id int64) error
	// ActionNextDue returns the earliest NextRunAt of the active, non-event
	// actions that have one, and of the pending runs' NotBefore (their
	// ScheduledFor when they have none); ENOTFOUND when there is none. The
	// scheduler sleeps until then.
	ActionNextDue(ctx context.Context) (time.Time, error)
	// ActionsByEvent returns the active event actions by id (their
	// EventTrigger decides which events fire them).
	ActionsByEvent(ctx context.Context) ([]ScheduledAction, error)

	// ActionClaimDue takes up to limit active, non-event actions whose
	// NextRunAt is at or before now, oldest first, each in its own
	// transaction, skipping actions another transaction holds. For each it
	// calls plan with the action and the number of its unfinished runs, then
	// inserts the runs the plan lists (running ones leased to owner until
	// leaseUntil with epoch 1; the others as planned) — an occurrence whose
	// (action, scheduled_for) exists is not inserted again — and writes the
	// plan's NextRunAt, Status, LastRunAt and the execution count increase.
	// It returns the inserted runs leased to owner.
	//
	// Each action is taken at most once per call. plan runs inside the
	// action's transaction: it must be quick and must not use the store. The
	// store sets a planned run's ActionID; Attempt 0 means 1, TriggeredBy ""
	// means scheduler; a running run starts at now, the others keep their
	// fields but have no owner or lease. LastRunAt becomes the latest
	// ScheduledFor the plan lists (unchanged when it lists none), UpdatedAt
	// now, and the version grows by one. EINVALID for an empty owner, or a
	// plan with an unknown status, a run that is not pending, running or
	// skipped, without an ID or ScheduledFor, or with invalid JSON; with an
	// error, the runs claimed before it are returned too.
	ActionClaimDue(ctx context.Context, now time.Time, limit int, owner string, leaseUntil time.Time,
		plan func(a ScheduledAction, unfinished int) ClaimPlan) ([]ScheduleRun, error)
	// ActionFire inserts one run of an action outside its schedule (manual,
	// event): running and leased to r.Owner until r.LeaseUntil, epoch 1,
	// started at r.StartedAt, when r.Status is running; skipped and
	// finished at r.FinishedAt when skipped (a firing the scheduler refused,
	// kept on record); else (pending or "") pending, with no owner or lease.
	// It returns the stored run. ENOTFOUND when the action does not exist,
	// ECONFLICT when (action, scheduled_for) or the id exists, EINVALID for
	// another status, a running run without an owner, a skipped run without
	// FinishedAt, a negative Depth, an unknown TriggeredBy or invalid JSON
	// (Attempt 0 means 1).
	//
	// An event run that is not skipped is an execution of its action, in
	// the same transaction: only while the action is active and below a
	// positive MaxExecutions (ENOTFOUND otherwise), its ExecutionCount grows
	// by one, LastRunAt becomes the later of itself and ScheduledFor,
	// UpdatedAt ScheduledFor, the version grows by one, and the action
	// expires when the count reaches MaxExecutions. Other runs leave the
	// action alone.
	ActionFire(ctx context.Context, r ScheduleRun) (ScheduleRun, error)

	// ScheduleRunGet returns a run or ENOTFOUND.
	ScheduleRunGet(ctx context.Context, id string) (ScheduleRun, error)
	// ScheduleRunList returns a page of an action's runs, newest
	// scheduled_for first, and the total.
	ScheduleRunList(ctx context.Context, actionID int64, p Page) ([]ScheduleRun, int, error)
	// ScheduleRunClaim takes the oldest run (by NotBefore, or ScheduledFor
	// when it has none, then ID) that needs an owner: pending with no
	// NotBefore or one at or before now, or running with its lease ended
	// before now (a dead instance's: its Attempt grows by one and its
	// TriggeredBy becomes recovery). It becomes running, leased to owner
	// until leaseUntil with the next epoch, StartedAt now. Two concurrent
	// claims never take the same run. ENOTFOUND when none, EINVALID for an
	// empty owner.
	ScheduleRunClaim(ctx context.Context, owner string, now, leaseUntil time.Time) (ScheduleRun, error)
	// ScheduleRunHeartbeat extends the leases that still hold and returns
	// the ids of those that do not, sorted.
	ScheduleRunHeartbeat(ctx context.Context, leases []Lease, leaseUntil time.Time) ([]string, error)
	// ScheduleRunRelease gives up a lease that holds: the run becomes
	// pending again, same attempt, with NotBefore now and no owner or lease
	// (shutdown).
	ScheduleRunRelease(ctx context.Context, l Lease, now time.Time) error
	// ScheduleRunFinish records the outcome of a run under its lease
	// (completed, failed or skipped, with Result, Error, the linked
	// PipelineRunID or BackgroundTaskID and FinishedAt) and in the same
	// transaction updates the action: ConsecutiveFailures reset on
	// completed, grown on failed, and Status paused when it reaches the
	// action's PauseAfterFailures. ECONFLICT when the lease no longer holds.
	//
	// An empty PipelineRunID or BackgroundTaskID keeps the linked one; the
	// lease ends at FinishedAt (owner and epoch stay, a record of who ran
	// it). An active action that reaches PauseAfterFailures (when positive)
	// becomes paused with no NextRunAt; a completed or failed run gives its
	// action the next version and UpdatedAt FinishedAt, a skipped one leaves
	// it alone. EINVALID when r.Status is not final, FinishedAt is zero, r.ID
	// is neither "" nor l.RunID, or Result is neither nil nor valid JSON.
	ScheduleRunFinish(ctx context.Context, l Lease, r ScheduleRun) error
	// ScheduleRunRetry turns a run whose attempt failed back to pending
	// under its lease, with the next attempt and NotBefore, and no owner or
	// lease; ECONFLICT when the lease no longer holds.
	ScheduleRunRetry(ctx context.Context, l Lease, notBefore time.Time) error
	// ScheduleRunLink records, under the lease, the pipeline run or
	// background task a run started, before it waits for its outcome (both
	// ids as given).
	ScheduleRunLink(ctx context.Context, l Lease, pipelineRunID, backgroundTaskID string) error
	// ScheduleRunDepthOf returns the Depth of the schedule run linked to
	// pipelineRunID or to backgroundTaskID ("" names none; the greatest
	// when several are), where the scheduler finds how deep in a chain of
	// event runs a pipeline or task event is. ENOTFOUND when no run is
	// linked to either: they were not started by a schedule run, or not
	// linked yet (a run links what it started right after starting it).
	ScheduleRunDepthOf(ctx context.Context, pipelineRunID, backgroundTaskID string) (int, error)
}

// The action types.
const (
	ActionRunTask          = "run_task"
	ActionExecutePipeline  = "execute_pipeline"
	ActionSendNotification = "send_notification"
	ActionCallAPI          = "call_api"
)

// The schedule types.
const (
	ScheduleCron     = "cron"
	ScheduleInterval = "interval"
	ScheduleOnce     = "once"
	ScheduleEvent    = "event"
)

// The action statuses.
const (
	ActionActive   = "active"
	ActionPaused   = "paused"
	ActionDisabled = "disabled"
	ActionExpired  = "expired"
)

// ScheduledAction is an action an agent, a pipeline or a webhook performs
// on a schedule.
type ScheduledAction struct {
	ID           int64
	Name         string
	Description  string
	AgentID      int64 // 0: none
	CircleID     int64 // 0: none
	ActionType   string
	ActionConfig json.RawMessage // JSON object, verbatim

	ScheduleType   string
	CronExpression string
	TimeZone       string // IANA; "" is UTC
	IntervalSec    int64
	RunAt          time.Time
	EventTrigger   json.RawMessage // JSON object {type, topics?}; nil unless an event schedule
	StartDate      time.Time       // zero: none
	EndDate        time.Time       // zero: none
	MaxExecutions  int             // 0: unlimited

	Status             string
	OverlapPolicy      string // skip | queue_one | allow
	CatchupPolicy      string // skip | run_once | run_all
	CatchupWindowSec   int64
	CatchupMax         int // the cap of run_all
	MaxRetries         int
	RetryDelaySec      int64
	PauseAfterFailures int // 0: never
	TimeoutSec         int64

	NextRunAt           time.Time // zero: none (paused, expired, event)
	LastRunAt           time.Time
	ExecutionCount      int
	ConsecutiveFailures int
	Tags                []string
	CreatedBy           int64
	CreatedAt           time.Time
	UpdatedAt           time.Time
	Version             int64
}

// ActionFilter selects actions; zero fields match everything.
type ActionFilter struct {
	Status     string
	ActionType string
	AgentID    int64
	Tag        string
}

// ClaimPlan is what the scheduler decided for one due action.
type ClaimPlan struct {
	Runs           []ScheduleRun // the occurrences to record (running, pending or skipped)
	NextRunAt      time.Time     // zero: none
	Status         string        // the action's status after the claim
	ExecutionsDone int           // how much ExecutionCount grows
}

// The schedule run statuses; the last three are final.
const (
	ScheduleRunPending   = "pending"
	ScheduleRunRunning   = "running"
	ScheduleRunCompleted = "completed"
	ScheduleRunFailed    = "failed"
	ScheduleRunSkipped   = "skipped"
)

// What triggered a schedule run.
const (
	TriggeredByScheduler = "scheduler"
	TriggeredByManual    = "manual"
	TriggeredByEvent     = "event"
	TriggeredByRecovery  = "recovery"
)

// ScheduleRun is one occurrence of a scheduled action.
type ScheduleRun struct {
	ID               string
	ActionID         int64
	ScheduledFor     time.Time
	TriggeredBy      string
	Attempt          int // 1 for the first
	Status           string
	Result           json.RawMessage // nil when none
	Error            string
	PipelineRunID    string
	BackgroundTaskID string
	TriggerData      json.RawMessage // the event of an event run (and its Depth); nil otherwise
	Depth            int             // in a chain of event runs: its event's cause's + 1; 0 when not an event run
	NotBefore        time.Time       // a pending run waits until then
	StartedAt        time.Time
	FinishedAt       time.Time
	Owner            string
	Epoch            int64
	LeaseUntil       time.Time
}

// ScheduleLeaseOf returns the lease a claimed schedule run carries.
func ScheduleLeaseOf(r ScheduleRun) Lease { return Lease{RunID: r.ID, Owner: r.Owner, Epoch: r.Epoch} }

// The enumerations of an action.
var (
	actionTypes     = []string{ActionRunTask, ActionExecutePipeline, ActionSendNotification, ActionCallAPI}
	scheduleTypes   = []string{ScheduleCron, ScheduleInterval, ScheduleOnce, ScheduleEvent}
	actionStatuses  = []string{ActionActive, ActionPaused, ActionDisabled, ActionExpired}
	overlapPolicies = []string{"skip", "queue_one", "allow"}
	catchupPolicies = []string{"skip", "run_once", "run_all"}
)

// The statuses and triggers of a schedule run.
var (
	scheduleRunStatuses = []string{ScheduleRunPending, ScheduleRunRunning, ScheduleRunCompleted, ScheduleRunFailed,
		ScheduleRunSkipped}
	scheduleRunTriggers = []string{TriggeredByScheduler, TriggeredByManual, TriggeredByEvent, TriggeredByRecovery}
)

// Check refuses with EINVALID an action whose type, schedule type, status
// or policy is unknown, whose config is not a JSON object, whose event
// trigger is neither nil nor a JSON object, or whose tags are not valid
// UTF-8.
func (a ScheduledAction) Check() error {
	for _, e := range []struct {
		name, value string
		known       []string
	}{
		{"action type", a.ActionType, actionTypes}, {"schedule type", a.ScheduleType, scheduleTypes},
		{"status", a.Status, actionStatuses}, {"overlap policy", a.OverlapPolicy, overlapPolicies},
		{"catch-up policy", a.CatchupPolicy, catchupPolicies},
	} {
		if !slices.Contains(e.known, e.value) {
			return gathering.Errorf(gathering.EINVALID, "action %q: %s %q is unknown", a.Name, e.name, e.value)
		}
	}
	switch {
	case !JSONObject(a.ActionConfig):
		return gathering.Errorf(gathering.EINVALID, "action %q: its config is not a JSON object", a.Name)
	case a.EventTrigger != nil && !JSONObject(a.EventTrigger):
		return gathering.Errorf(gathering.EINVALID, "action %q: its event trigger is not a JSON object", a.Name)
	case slices.ContainsFunc(a.Tags, func(t string) bool { return !utf8.ValidString(t) }):
		return gathering.Errorf(gathering.EINVALID, "action %q: a tag is not valid UTF-8", a.Name)
	}
	return nil
}

// Check refuses with EINVALID a filter of an unknown status or action
// type.
func (f ActionFilter) Check() error {
	if f.Status != "" && !slices.Contains(actionStatuses, f.Status) {
		return gathering.Errorf(gathering.EINVALID, "action status %q is unknown", f.Status)
	}
	if f.ActionType != "" && !slices.Contains(actionTypes, f.ActionType) {
		return gathering.Errorf(gathering.EINVALID, "action type %q is unknown", f.ActionType)
	}
	return nil
}

// Check refuses with EINVALID a plan for action id that would give it an
// unknown status.
func (p ClaimPlan) Check(id int64) error {
	if !slices.Contains(actionStatuses, p.Status) {
		return gathering.Errorf(gathering.EINVALID, "action %d: a plan cannot set status %q", id, p.Status)
	}
	return nil
}

// Planned is r, a run a plan lists for action id, as the stores insert
// it: of that action, triggered by the scheduler when it names no
// trigger, claimed at now by owner until leaseUntil when running, and
// made as Fired makes a run. EINVALID when it is not pending, running or
// skipped, and as Fired.
func (r ScheduleRun) Planned(id int64, owner string, now, leaseUntil time.Time) (ScheduleRun, error) {
	r.ActionID, r.TriggeredBy = id, cmp.Or(r.TriggeredBy, TriggeredByScheduler)
	switch r.Status {
	case ScheduleRunRunning:
		r.Owner, r.LeaseUntil, r.StartedAt = owner, leaseUntil, now
	case ScheduleRunPending, ScheduleRunSkipped:
	default:
		return r, gathering.Errorf(gathering.EINVALID, "action %d: a plan cannot record a %q run", id, r.Status)
	}
	return r.asInserted()
}

// Fired is r as ActionFire inserts it: pending when it has no status,
// attempt 1 when it has none, epoch 1 when running, else no owner, epoch
// or lease. EINVALID when it is neither pending, running nor skipped, is
// skipped without a finish, or has no id or time, an unknown trigger,
// invalid JSON, a negative depth, or no owner when running.
func (r ScheduleRun) Fired() (ScheduleRun, error) {
	r.Status = cmp.Or(r.Status, ScheduleRunPending)
	switch r.Status {
	case ScheduleRunPending, ScheduleRunRunning:
	case ScheduleRunSkipped:
		if r.FinishedAt.IsZero() {
			return r, gathering.Errorf(gathering.EINVALID, "skipped run %s has no finish time", r.ID)
		}
	default:
		return r, gathering.Errorf(gathering.EINVALID, "a fired run cannot be %q", r.Status)
	}
	return r.asInserted()
}

// asInserted is r as the stores insert it, for Planned and Fired: attempt
// 1 when it has none, epoch 1 when running, else no owner, epoch or lease.
// EINVALID when r has no id or time, an unknown status or trigger, invalid
// JSON, a negative depth, or no owner when running.
func (r ScheduleRun) asInserted() (ScheduleRun, error) {
	r.Attempt = max(r.Attempt, 1)
	if r.Status == ScheduleRunRunning {
		r.Epoch = 1
	} else {
		r.Owner, r.Epoch, r.LeaseUntil = "", 0, time.Time{}
	}
	switch {
	case r.ID == "" || r.ScheduledFor.IsZero():
		return r, gathering.Errorf(gathering.EINVALID, "a run of action %d needs an id and a time", r.ActionID)
	case !slices.Contains(scheduleRunStatuses, r.Status), !slices.Contains(scheduleRunTriggers, r.TriggeredBy):
		return r, gathering.Errorf(gathering.EINVALID, "run %s: status %q or trigger %q is unknown", r.ID, r.Status,
			r.TriggeredBy)
	case r.Status == ScheduleRunRunning && r.Owner == "":
		return r, gathering.Errorf(gathering.EINVALID, "running run %s has no owner", r.ID)
	case r.Result != nil && !ValidJSON(r.Result), r.TriggerData != nil && !ValidJSON(r.TriggerData):
		return r, gathering.Errorf(gathering.EINVALID, "run %s: result or trigger data is not valid JSON", r.ID)
	case r.Depth < 0:
		return r, gathering.Errorf(gathering.EINVALID, "run %s: depth %d is negative", r.ID, r.Depth)
	}
	return r, nil
}

// CountsOnAction reports whether firing r is an execution of its action:
// an event run that is not skipped.
func (r ScheduleRun) CountsOnAction() bool {
	return r.TriggeredBy == TriggeredByEvent && r.Status != ScheduleRunSkipped
}

// CheckFinish refuses with EINVALID an outcome r, finished under l, that
// is not final, has no time, is of another run than l's, or whose result
// is invalid JSON.
func (r ScheduleRun) CheckFinish(l Lease) error {
	switch {
	case r.Status != ScheduleRunCompleted && r.Status != ScheduleRunFailed && r.Status != ScheduleRunSkipped:
		return gathering.Errorf(gathering.EINVALID, "schedule run %s cannot finish as %q", l.RunID, r.Status)
	case r.FinishedAt.IsZero():
		return gathering.Errorf(gathering.EINVALID, "schedule run %s: the outcome has no time", l.RunID)
	case r.ID != "" && r.ID != l.RunID:
		return gathering.Errorf(gathering.EINVALID, "outcome of run %s under the lease of run %s", r.ID, l.RunID)
	case r.Result != nil && !ValidJSON(r.Result):
		return gathering.Errorf(gathering.EINVALID, "schedule run %s: the result is not valid JSON", l.RunID)
	}
	return nil
}
