package background

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Limits and defaults of a task's fields.
const (
	MaxGoalLength     = 10_000
	DefaultMaxSteps   = 10
	MaxSteps          = 100
	DefaultTimeoutSec = 3600
	MaxTimeoutSec     = 86_400
)

// retryAfter is what a refused create or resume suggests: tasks take
// minutes, so asking again sooner is pointless.
const retryAfter = 30 * time.Second

// NewTask is what a caller asks for; zero limits take the defaults.
type NewTask struct {
	ID                 string // "": a new one; the scheduler names the task it links before creating it
	AgentID            int64
	UserID             int64
	Goal               string
	MaxSteps           int
	TimeoutSec         int64
	CheckpointInterval int
}

// WithDefaults returns n with its zero limits set.
func (n NewTask) WithDefaults() NewTask {
	n.MaxSteps = cmp.Or(n.MaxSteps, DefaultMaxSteps)
	n.TimeoutSec = cmp.Or(n.TimeoutSec, DefaultTimeoutSec)
	n.CheckpointInterval = cmp.Or(n.CheckpointInterval, 1)
	return n
}

// Check returns everything wrong with a task a user asks for (after
// defaults), each problem named by its API field.
func (r *Runner) Check(ctx context.Context, n NewTask) []gathering.FieldError {
	var ps []gathering.FieldError
	add := func(field, format string, args ...any) {
		ps = append(ps, gathering.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if l := len([]rune(n.Goal)); l < 1 || l > MaxGoalLength {
		add("goal", "must be 1 to %d characters", MaxGoalLength)
	}
	if n.MaxSteps < 1 || n.MaxSteps > MaxSteps {
		add("max_steps", "must be between 1 and %d", MaxSteps)
	}
	if n.TimeoutSec < 1 || n.TimeoutSec > MaxTimeoutSec {
		add("timeout_seconds", "must be between 1 and %d", MaxTimeoutSec)
	}
	if n.CheckpointInterval < 1 || n.CheckpointInterval > max(n.MaxSteps, 1) {
		add("checkpoint_interval", "must be between 1 and max_steps")
	}
	if _, err := r.db.AgentGet(ctx, n.AgentID); gathering.ErrorCode(err) == gathering.ENOTFOUND {
		add("agent_id", "no agent has id %d", n.AgentID)
	}
	return ps
}

// Create records a running task and wakes a runner to work on it;
// EINVALID with field details, or ERATELIMITED when MaxRunning tasks run.
func (r *Runner) Create(ctx context.Context, n NewTask) (store.BackgroundTask, error) {
	n = n.WithDefaults()
	if ps := r.Check(ctx, n); len(ps) > 0 {
		return store.BackgroundTask{}, gathering.Invalid("The background task is invalid.", ps...)
	}
	now := time.Now()
	t, err := r.db.TaskCreate(ctx, store.BackgroundTask{ID: cmp.Or(n.ID, event.NewID(now)), AgentID: n.AgentID, UserID: n.UserID,
		Goal: n.Goal, Status: store.TaskRunning, MaxSteps: n.MaxSteps, TimeoutSec: n.TimeoutSec,
		CheckpointInterval: n.CheckpointInterval, CreatedAt: now, UpdatedAt: now}, r.opts.MaxRunning)
	if err != nil {
		return t, r.limited(err)
	}
	r.publish(ctx, "created", t, map[string]any{"goal": t.Goal})
	r.signal()
	return t, nil
}

// Pause stops a running task at once, on whichever instance works on it;
// it continues after its last checkpoint when resumed. ECONFLICT when it
// is not running.
func (r *Runner) Pause(ctx context.Context, id string) (store.BackgroundTask, error) {
	t, err := r.db.TaskPause(ctx, id, time.Now())
	if err != nil {
		return t, err
	}
	r.workers.Cancel(id, errPaused)
	r.publish(ctx, "paused", t, map[string]any{"checkpoint_step": t.CheckpointStep})
	return t, nil
}

// Resume makes a paused task run again; ECONFLICT when it is not paused,
// ERATELIMITED when MaxRunning tasks run.
func (r *Runner) Resume(ctx context.Context, id string) (store.BackgroundTask, error) {
	t, err := r.db.TaskResume(ctx, id, r.opts.MaxRunning, time.Now())
	if err != nil {
		return t, r.limited(err)
	}
	r.publish(ctx, "resumed", t, map[string]any{"step": t.CheckpointStep + 1})
	r.signal()
	return t, nil
}

// Cancel ends a running or paused task at once; ECONFLICT when it has
// finished.
func (r *Runner) Cancel(ctx context.Context, id string) (store.BackgroundTask, error) {
	t, err := r.db.TaskCancel(ctx, id, time.Now())
	if err != nil {
		return t, err
	}
	r.workers.Cancel(id, errCancelled)
	r.publish(ctx, "cancelled", t, nil)
	return t, nil
}

// limited tells a refused caller how many tasks may run and when to ask
// again.
func (r *Runner) limited(err error) error {
	if gathering.ErrorCode(err) != gathering.ERATELIMITED {
		return err
	}
	return &gathering.Error{Code: gathering.ERATELIMITED, RetryAfter: retryAfter, Err: err,
		Message: fmt.Sprintf("At most %d background tasks run at once; wait for one to finish, or pause or cancel one.", r.opts.MaxRunning)}
}
