package store

import (
	"context"
	"encoding/json"
	"time"
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
