package store

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// TaskStore keeps background agent tasks and their steps.
//
// A running task is worked on by the one instance that holds its lease
// (owner, epoch, lease_until), as pipeline runs are: TaskClaim hands out a
// lease with a fresh epoch, heartbeats extend it, and every write the
// working instance makes names its Lease and applies only while the task
// is still running with that owner and epoch (fencing): ECONFLICT when it
// no longer holds, ENOTFOUND when there is no such task. A lease with an
// empty owner never holds. Pause, resume and cancel come from the API, on
// any instance, and take no lease. The caller chooses a task's ID.
//
// A task's UpdatedAt is when its status or progress last changed: its
// creation, a finished step, a pause, a resume, a cancel or its end. Lease
// bookkeeping (claims, heartbeats, releases) and starting a step leave it.
//
// The number of running tasks is bounded across every instance sharing
// the database: TaskCreate and TaskResume count them and insert or resume
// in one serialised transaction (an advisory transaction lock on
// PostgreSQL), so concurrent calls never pass the bound together.
type TaskStore interface {
	// TaskCreate inserts t as running, with no owner, epoch 0, no lease,
	// no steps and zero usage, while fewer than maxRunning tasks are
	// running, and returns it as stored. It keeps t's ID, AgentID, UserID,
	// Goal, MaxSteps, TimeoutSec, CheckpointInterval, SessionID and
	// CreatedAt (also its UpdatedAt) and ignores its other fields.
	// ERATELIMITED (with no RetryAfter) when maxRunning are (always, for a
	// maxRunning below 1), ECONFLICT when the id exists, EINVALID for an
	// empty id or goal, MaxSteps or CheckpointInterval below 1, or
	// TimeoutSec below 1.
	TaskCreate(ctx context.Context, t BackgroundTask, maxRunning int) (BackgroundTask, error)
	// TaskGet returns a task or ENOTFOUND.
	TaskGet(ctx context.Context, id string) (BackgroundTask, error)
	// TaskList returns a page of the tasks that match, newest first (by
	// CreatedAt, then ID), and the total; EINVALID for an unknown status.
	TaskList(ctx context.Context, f TaskFilter, p Page) ([]BackgroundTask, int, error)
	// TaskCountRunning counts the running tasks.
	TaskCountRunning(ctx context.Context) (int, error)

	// TaskClaim takes the lease of the oldest running task (by CreatedAt,
	// then ID) that needs an owner: none (even released at now), or a lease
	// that ended before now. It gets owner, the next epoch and a lease
	// until leaseUntil; StartedAt becomes now when it was zero; its steps
	// still running (a dead instance's) become interrupted, finished at
	// now. ENOTFOUND when none needs an owner, EINVALID for an empty owner.
	// Two concurrent claims never take the same task.
	TaskClaim(ctx context.Context, owner string, now, leaseUntil time.Time) (BackgroundTask, error)
	// TaskHeartbeat extends the leases that still hold and returns the ids
	// of those that do not (the task was paused, cancelled, finished or
	// reclaimed), sorted.
	TaskHeartbeat(ctx context.Context, leases []Lease, leaseUntil time.Time) ([]string, error)
	// TaskRelease gives up a lease that holds (shutdown, or a restart on
	// SQLite releasing a dead process's tasks): the task stays running with
	// no owner and its lease ended at now, and its running steps become
	// interrupted; CheckpointStep is unchanged, so the next claim on any
	// instance continues after it. A lease that no longer holds is not an
	// error.
	TaskRelease(ctx context.Context, l Lease, now time.Time) error

	// TaskStepStart records the start of step s.Step under the lease: it
	// deletes the task's steps numbered s.Step or more (the work of an
	// earlier try past the checkpoint) and inserts s as running, started
	// at s.StartedAt (its other fields are ignored). EINVALID when s.Step
	// is not CheckpointStep+1 or more, or not MaxSteps or less, or s is not
	// of the lease's task.
	TaskStepStart(ctx context.Context, l Lease, s TaskStep) error
	// TaskStepFinish records the end of a running step under the lease, in
	// one transaction: the step's Status (completed, failed or
	// interrupted), Content, ToolCalls, ToolResults, usage, error and
	// FinishedAt; and on the task the step's usage added to its totals,
	// UsedMS grown by p.UsedMS, SessionID = p.SessionID when that is not
	// empty, and, when p.Checkpoint, CheckpointStep = s.Step; UpdatedAt =
	// s.FinishedAt. EINVALID for another status, invalid JSON or a step of
	// another task than the lease's; ENOTFOUND when there is no such
	// running step.
	TaskStepFinish(ctx context.Context, l Lease, s TaskStep, p TaskProgress) error
	// TaskFinish ends a task under its lease and returns it: Status
	// (completed, failed or timed_out; EINVALID for another), Result,
	// ErrorCode, Error and FinishedAt (and UpdatedAt) = end.At; the lease
	// ends at FinishedAt (owner and epoch stay, as a record of who ran it
	// last) and its running steps become interrupted.
	TaskFinish(ctx context.Context, l Lease, end TaskEnd) (BackgroundTask, error)
	// TaskSteps returns a task's steps by number; none for a missing task.
	TaskSteps(ctx context.Context, taskID string) ([]TaskStep, error)

	// TaskPause turns a running task paused at now, from any instance: it
	// loses its owner and lease, its running steps become interrupted, and
	// CheckpointStep becomes its highest completed step when that is
	// higher (it never moves back). ECONFLICT when it is not running,
	// ENOTFOUND.
	TaskPause(ctx context.Context, id string, now time.Time) (BackgroundTask, error)
	// TaskResume turns a paused task running (no owner, so that the next
	// claim takes it) while fewer than maxRunning tasks are running;
	// ERATELIMITED when maxRunning are, ECONFLICT when it is not paused,
	// ENOTFOUND.
	TaskResume(ctx context.Context, id string, maxRunning int, now time.Time) (BackgroundTask, error)
	// TaskCancel turns a running or paused task cancelled, finished at now,
	// with no owner; its running steps become interrupted. ECONFLICT when
	// it is finished, ENOTFOUND.
	TaskCancel(ctx context.Context, id string, now time.Time) (BackgroundTask, error)
}

// TaskStatus is where a background task is in its life.
type TaskStatus string

// The task statuses; the last four are final.
const (
	TaskRunning   TaskStatus = "running"
	TaskPaused    TaskStatus = "paused"
	TaskCompleted TaskStatus = "completed"
	TaskFailed    TaskStatus = "failed"
	TaskCancelled TaskStatus = "cancelled"
	TaskTimedOut  TaskStatus = "timed_out"
)

// Final reports whether s is a finished task's status.
func (s TaskStatus) Final() bool { return s != TaskRunning && s != TaskPaused }

// taskStatuses is every status of a task.
var taskStatuses = []TaskStatus{TaskRunning, TaskPaused, TaskCompleted, TaskFailed, TaskCancelled, TaskTimedOut}

// BackgroundTask is an agent working on a goal on its own, step by step.
type BackgroundTask struct {
	ID                 string
	AgentID            int64
	UserID             int64 // whose rights its tool calls have
	Goal               string
	Status             TaskStatus
	MaxSteps           int
	TimeoutSec         int64 // running time allowed, paused time excluded
	CheckpointInterval int   // a checkpoint every so many steps
	CheckpointStep     int   // the task continues after this step; 0 before the first checkpoint
	SessionID          string
	UsedMS             int64 // running time of its finished steps
	Result             string
	ErrorCode          string
	Error              string
	InputTokens        int
	OutputTokens       int
	Cost               float64
	CreatedAt          time.Time
	StartedAt          time.Time // zero until first claimed
	UpdatedAt          time.Time // when its status or progress last changed; see TaskStore
	FinishedAt         time.Time // zero until finished
	Owner              string    // "" when none
	Epoch              int64
	LeaseUntil         time.Time // zero when none
}

// TaskLeaseOf returns the lease a claimed task carries.
func TaskLeaseOf(t BackgroundTask) Lease { return Lease{RunID: t.ID, Owner: t.Owner, Epoch: t.Epoch} }

// TaskFilter selects tasks; zero fields match everything.
type TaskFilter struct {
	AgentID int64
	UserID  int64
	Status  TaskStatus
}

// TaskEnd finishes a task; see TaskFinish.
type TaskEnd struct {
	Status    TaskStatus
	Result    string
	ErrorCode string
	Error     string
	At        time.Time
}

// TaskProgress is what a finished step adds to its task; see
// TaskStepFinish.
type TaskProgress struct {
	SessionID  string
	UsedMS     int64
	Checkpoint bool
}

// The step statuses.
const (
	StepRunning     = "running"
	StepCompleted   = "completed"
	StepFailed      = "failed"
	StepInterrupted = "interrupted" // cut off by a pause, a cancel, a shutdown or a dead instance
)

// TaskStep is one step of a task: one chat turn of its agent, with the
// tool calls the turn made.
type TaskStep struct {
	TaskID       string
	Step         int // 1 for the first
	Status       string
	Content      string          // the agent's answer
	ToolCalls    json.RawMessage // JSON array; nil when none
	ToolResults  json.RawMessage // JSON array; nil when none
	InputTokens  int
	OutputTokens int
	Cost         float64
	ErrorCode    string
	Error        string
	StartedAt    time.Time
	FinishedAt   time.Time // zero while running
}

// CheckNew refuses with EINVALID a new task without an id or a goal, or
// whose step limit, checkpoint interval or timeout is below 1.
func (t BackgroundTask) CheckNew() error {
	switch {
	case t.ID == "" || t.Goal == "":
		return gathering.Errorf(gathering.EINVALID, "a background task needs an id and a goal")
	case t.MaxSteps < 1 || t.CheckpointInterval < 1 || t.TimeoutSec < 1:
		return gathering.Errorf(gathering.EINVALID,
			"background task %s: max steps, checkpoint interval and timeout must be at least 1", t.ID)
	}
	return nil
}

// CheckTaskOwner refuses with EINVALID an empty owner claiming a task.
func CheckTaskOwner(owner string) error {
	if owner == "" {
		return gathering.Errorf(gathering.EINVALID, "a background task's owner must not be empty")
	}
	return nil
}

// Check refuses with EINVALID a filter of an unknown status.
func (f TaskFilter) Check() error {
	if f.Status != "" && !slices.Contains(taskStatuses, f.Status) {
		return gathering.Errorf(gathering.EINVALID, "background task status %q is unknown", f.Status)
	}
	return nil
}

// Check refuses with EINVALID the end of task id with a status other than
// completed, failed or timed_out.
func (e TaskEnd) Check(id string) error {
	if e.Status != TaskCompleted && e.Status != TaskFailed && e.Status != TaskTimedOut {
		return gathering.Errorf(gathering.EINVALID, "background task %s cannot finish as %q", id, e.Status)
	}
	return nil
}

// CheckLease refuses with EINVALID a step written under l that is not of
// the task of l.
func (s TaskStep) CheckLease(l Lease) error {
	if s.TaskID != l.RunID {
		return gathering.Errorf(gathering.EINVALID, "step of task %s under the lease of task %s", s.TaskID, l.RunID)
	}
	return nil
}

// CheckNumber refuses with EINVALID the start of a step numbered checkpoint
// or less, or above maxSteps: a task continues after its checkpoint step,
// up to its step limit.
func (s TaskStep) CheckNumber(checkpoint, maxSteps int) error {
	if s.Step <= checkpoint || s.Step > maxSteps {
		return gathering.Errorf(gathering.EINVALID, "task %s cannot start step %d: it continues after step %d, up to %d",
			s.TaskID, s.Step, checkpoint, maxSteps)
	}
	return nil
}

// CheckEnd refuses with EINVALID a step end that is not of the task of l,
// whose status is not completed, failed or interrupted, or whose tool
// calls or results are neither nil nor valid JSON.
func (s TaskStep) CheckEnd(l Lease) error {
	if err := s.CheckLease(l); err != nil {
		return err
	}
	switch {
	case s.Status != StepCompleted && s.Status != StepFailed && s.Status != StepInterrupted:
		return gathering.Errorf(gathering.EINVALID, "step %d of task %s cannot finish as %q", s.Step, s.TaskID, s.Status)
	case s.ToolCalls != nil && !ValidJSON(s.ToolCalls), s.ToolResults != nil && !ValidJSON(s.ToolResults):
		return gathering.Errorf(gathering.EINVALID, "step %d of task %s: tool calls or results are not valid JSON",
			s.Step, s.TaskID)
	}
	return nil
}

// NoRunningStepError is the ENOTFOUND of the end of step s when s is not
// running.
func NoRunningStepError(s TaskStep) error {
	return gathering.Errorf(gathering.ENOTFOUND, "background task %s has no running step %d", s.TaskID, s.Step)
}
