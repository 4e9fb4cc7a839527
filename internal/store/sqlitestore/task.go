package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// taskColumns are the columns scanTask reads, in order.
const taskColumns = `id, agent_id, user_id, goal, status, max_steps, timeout_sec, checkpoint_interval,
	checkpoint_step, session_id, used_ms, result, error_code, error, input_tokens, output_tokens, cost, created_at,
	started_at, updated_at, finished_at, owner, epoch, lease_until`

// stepColumns are the columns scanStep reads, in order.
const stepColumns = `task_id, step, status, content, tool_calls, tool_results, input_tokens, output_tokens, cost,
	error_code, error, started_at, finished_at`

// taskLeaseHolds matches the task of a lease (?1 task id, ?2 owner, ?3
// epoch) while that lease holds: the task is running with that owner and
// epoch. An empty owner is no lease: an unowned task waits for a claim.
const taskLeaseHolds = `id = ?1 AND owner = ?2 AND owner <> '' AND epoch = ?3 AND status = 'running'`

// taskMatch is the condition of a TaskFilter (?1 agent id, ?2 user id, ?3
// status), whose zero fields match everything.
const taskMatch = `(?1 = 0 OR agent_id = ?1) AND (?2 = 0 OR user_id = ?2) AND (?3 = '' OR status = ?3)`

// highestCompleted is the highest completed step of task ?1, 0 when none.
const highestCompleted = `coalesce((SELECT max(step) FROM background_task_steps
	WHERE task_id = ?1 AND status = 'completed'), 0)`

// interruptSteps turns the running steps of task ?1 interrupted, finished
// at ?2.
const interruptSteps = `UPDATE background_task_steps SET status = 'interrupted', finished_at = ?2
	WHERE task_id = ?1 AND status = 'running'`

// taskExists looks up task ?1.
const taskExists = `SELECT EXISTS (SELECT 1 FROM background_tasks WHERE id = ?1)`

// The refusals of the task store.
const (
	errTaskNotRunning refusal = "the task is not running"
	errTaskNotPaused  refusal = "the task is not paused"
	errTaskFinished   refusal = "the task is finished"
)

// leasedError is runError, except that an error of ours (a rule of the
// store refused the call: a lease that no longer holds, a bound reached)
// is returned as it is. Tasks and conversations use it.
func leasedError(err error, format string, args ...any) error {
	if _, ours := errors.AsType[*gathering.Error](err); ours {
		return err
	}
	return runError(err, format, args...)
}

// scanTask reads one background_tasks row, converting its times to UTC.
func scanTask(row scanner) (store.BackgroundTask, error) {
	var t store.BackgroundTask
	var created, updated int64
	var started, finished, lease sql.NullInt64
	err := row.Scan(&t.ID, &t.AgentID, &t.UserID, &t.Goal, &t.Status, &t.MaxSteps, &t.TimeoutSec,
		&t.CheckpointInterval, &t.CheckpointStep, &t.SessionID, &t.UsedMS, &t.Result, &t.ErrorCode, &t.Error,
		&t.InputTokens, &t.OutputTokens, &t.Cost, &created, &started, &updated, &finished, &t.Owner, &t.Epoch, &lease)
	t.CreatedAt, t.UpdatedAt, t.StartedAt, t.FinishedAt = fromMS(created), fromMS(updated), fromNullMS(started),
		fromNullMS(finished)
	t.LeaseUntil = fromNullMS(lease)
	return t, err
}

// scanStep reads one background_task_steps row, converting its times to
// UTC and keeping its JSON as the stored bytes.
func scanStep(row scanner) (store.TaskStep, error) {
	var s store.TaskStep
	var calls, results sql.NullString
	var started, finished sql.NullInt64
	err := row.Scan(&s.TaskID, &s.Step, &s.Status, &s.Content, &calls, &results, &s.InputTokens, &s.OutputTokens,
		&s.Cost, &s.ErrorCode, &s.Error, &started, &finished)
	s.ToolCalls, s.ToolResults = rawJSON(calls), rawJSON(results)
	s.StartedAt, s.FinishedAt = fromNullMS(started), fromNullMS(finished)
	return s, err
}

// underTaskLimit refuses with ERATELIMITED, inside a write transaction
// (which the one writer keeps alone until it ends), when maxRunning tasks
// or more are running.
func underTaskLimit(ctx context.Context, tx *sql.Tx, maxRunning int) error {
	var running int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM background_tasks WHERE status = 'running'`).Scan(&running)
	if err != nil {
		return err
	}
	if running >= maxRunning {
		return gathering.Errorf(gathering.ERATELIMITED, "at most %d background tasks run at once", maxRunning)
	}
	return nil
}

// TaskCreate inserts a running task with the id, agent, user, goal, limits,
// session and creation time of t (also its UpdatedAt), in one write
// transaction that counts the running tasks first.
func (s *Store) TaskCreate(ctx context.Context, t store.BackgroundTask, maxRunning int) (store.BackgroundTask, error) {
	if err := t.CheckNew(); err != nil {
		return store.BackgroundTask{}, err
	}
	var got store.BackgroundTask
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := underTaskLimit(ctx, tx, maxRunning); err != nil {
			return err
		}
		var err error
		got, err = scanTask(tx.QueryRowContext(ctx,
			`INSERT INTO background_tasks (id, agent_id, user_id, goal, status, max_steps, timeout_sec,
			     checkpoint_interval, checkpoint_step, session_id, used_ms, result, error_code, error, input_tokens,
			     output_tokens, cost, created_at, updated_at, owner, epoch)
			 VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7, 0, ?8, 0, '', '', '', 0, 0, 0, ?9, ?9, '', 0)
			 RETURNING `+taskColumns, t.ID, t.AgentID, t.UserID, t.Goal, t.MaxSteps, t.TimeoutSec, t.CheckpointInterval,
			t.SessionID, t.CreatedAt.UnixMilli()))
		return err
	})
	if err != nil {
		return store.BackgroundTask{}, leasedError(err, "create background task %s", t.ID)
	}
	return got, nil
}

// TaskGet returns a task or ENOTFOUND.
func (s *Store) TaskGet(ctx context.Context, id string) (store.BackgroundTask, error) {
	t, err := scanTask(s.read.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM background_tasks WHERE id = ?`, id))
	return t, translate(err, "get background task %s", id)
}

// TaskList returns a page of the tasks that match, newest first (by
// CreatedAt, then ID in byte order), and the total count of matches. A
// page holds 50 tasks when Limit is not positive, and at most 500.
func (s *Store) TaskList(ctx context.Context, f store.TaskFilter, p store.Page) ([]store.BackgroundTask, int, error) {
	if err := f.Check(); err != nil {
		return nil, 0, err
	}
	var total int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM background_tasks WHERE `+taskMatch,
		f.AgentID, f.UserID, f.Status).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count background tasks")
	}
	limit, offset := p.ListBounds()
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+taskColumns+` FROM background_tasks WHERE `+taskMatch+`
		 ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5`, f.AgentID, f.UserID, f.Status, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list background tasks")
	}
	list, err := collect(rows, scanTask)
	return list, total, translate(err, "list background tasks")
}

// TaskCountRunning counts the running tasks.
func (s *Store) TaskCountRunning(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM background_tasks WHERE status = 'running'`).Scan(&n)
	return n, translate(err, "count running background tasks")
}

// TaskClaim takes, in one write transaction, the lease of the oldest
// running task that has no owner or whose lease ended before now, and
// interrupts its running steps. The one writer serializes the claims.
func (s *Store) TaskClaim(ctx context.Context, owner string, now, leaseUntil time.Time) (store.BackgroundTask, error) {
	if err := store.CheckTaskOwner(owner); err != nil {
		return store.BackgroundTask{}, err
	}
	var t store.BackgroundTask
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = scanTask(tx.QueryRowContext(ctx,
			`UPDATE background_tasks SET owner = ?1, epoch = epoch + 1, lease_until = ?3,
			     started_at = coalesce(started_at, ?2)
			 WHERE id = (SELECT id FROM background_tasks
			             WHERE status = 'running' AND (owner = '' OR lease_until < ?2)
			             ORDER BY created_at, id LIMIT 1)
			 RETURNING `+taskColumns, owner, now.UnixMilli(), leaseUntil.UnixMilli()))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, interruptSteps, t.ID, now.UnixMilli())
		return err
	})
	if err != nil {
		return store.BackgroundTask{}, translate(err, "claim a background task for %s", owner)
	}
	return t, nil
}

// TaskHeartbeat extends, in one UPDATE, every listed lease that holds, and
// returns the task ids of the others, sorted.
func (s *Store) TaskHeartbeat(ctx context.Context, leases []store.Lease, leaseUntil time.Time) ([]string, error) {
	return s.extendLeases(ctx, `UPDATE background_tasks SET lease_until = ?2
		 FROM (SELECT value ->> 'RunID' AS lease_id, value ->> 'Owner' AS lease_owner,
		              value ->> 'Epoch' AS lease_epoch FROM json_each(?1)) AS l
		 WHERE id = lease_id AND owner = lease_owner AND owner <> '' AND epoch = lease_epoch AND status = 'running'
		 RETURNING id, owner, epoch`, "background task", leases, leaseUntil)
}

// holdTask checks, inside a write transaction, that l holds, and returns
// the task's checkpoint step and step limit; sql.ErrNoRows when l does not
// hold. The one writer keeps it holding until tx ends.
func holdTask(ctx context.Context, tx *sql.Tx, l store.Lease) (checkpoint, maxSteps int, err error) {
	err = tx.QueryRowContext(ctx, `SELECT checkpoint_step, max_steps FROM background_tasks WHERE `+taskLeaseHolds,
		l.RunID, l.Owner, l.Epoch).Scan(&checkpoint, &maxSteps)
	return checkpoint, maxSteps, err
}

// leaseLost explains the sql.ErrNoRows of holdTask: ENOTFOUND when the task
// of l is missing, else the lease no longer holds. Other errors pass.
func (s *Store) leaseLost(ctx context.Context, l store.Lease, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return s.missingOr(ctx, errLeaseLost, taskExists, l.RunID)
	}
	return err
}

// TaskRelease frees, in one write transaction, a lease that holds: no
// owner, the lease ended at now and the running steps interrupted; the
// checkpoint stays. A lease that does not hold (or a missing task) is left
// alone.
func (s *Store) TaskRelease(ctx context.Context, l store.Lease, now time.Time) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE background_tasks SET owner = '', lease_until = ?4 WHERE `+taskLeaseHolds,
			l.RunID, l.Owner, l.Epoch, now.UnixMilli())
		if err = refuseUnchanged(res, err, errLeaseLost); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, interruptSteps, l.RunID, now.UnixMilli())
		return err
	})
	if errors.Is(err, errLeaseLost) {
		return nil
	}
	return translate(err, "release background task %s", l.RunID)
}

// TaskStepStart records the start of a step, started at s.StartedAt (its
// other fields are ignored), in one write transaction that checks the
// lease first. EINVALID too when s is not of the task of l.
func (s *Store) TaskStepStart(ctx context.Context, l store.Lease, st store.TaskStep) error {
	if err := st.CheckLease(l); err != nil {
		return err
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		checkpoint, maxSteps, err := holdTask(ctx, tx, l)
		if err != nil {
			return err
		}
		if err := st.CheckNumber(checkpoint, maxSteps); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM background_task_steps WHERE task_id = ? AND step >= ?`,
			st.TaskID, st.Step); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO background_task_steps (task_id, step, status, content, input_tokens, output_tokens, cost,
			     error_code, error, started_at)
			 VALUES (?, ?, 'running', '', 0, 0, 0, '', '', ?)`, st.TaskID, st.Step, nullMS(st.StartedAt))
		return err
	})
	return leasedError(s.leaseLost(ctx, l, err), "start step %d of background task %s", st.Step, l.RunID)
}

// TaskStepFinish records the end of a running step and adds it to its task,
// in one write transaction that checks the lease first; the task's
// UpdatedAt becomes the step's FinishedAt. EINVALID too when s is not of
// the task of l.
func (s *Store) TaskStepFinish(ctx context.Context, l store.Lease, st store.TaskStep, p store.TaskProgress) error {
	if err := st.CheckEnd(l); err != nil {
		return err
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, _, err := holdTask(ctx, tx, l); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE background_task_steps SET status = ?3, content = ?4, tool_calls = ?5, tool_results = ?6,
			     input_tokens = ?7, output_tokens = ?8, cost = ?9, error_code = ?10, error = ?11, finished_at = ?12
			 WHERE task_id = ?1 AND step = ?2 AND status = 'running'`,
			st.TaskID, st.Step, st.Status, st.Content, nullJSON(st.ToolCalls), nullJSON(st.ToolResults),
			st.InputTokens, st.OutputTokens, st.Cost, st.ErrorCode, st.Error, nullMS(st.FinishedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmp.Or(err, store.NoRunningStepError(st))
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE background_tasks SET input_tokens = input_tokens + ?2, output_tokens = output_tokens + ?3,
			     cost = cost + ?4, used_ms = used_ms + ?5, session_id = coalesce(nullif(?6, ''), session_id),
			     checkpoint_step = CASE WHEN ?7 THEN ?8 ELSE checkpoint_step END, updated_at = ?9
			 WHERE id = ?1`, st.TaskID, st.InputTokens, st.OutputTokens, st.Cost, p.UsedMS, p.SessionID, p.Checkpoint,
			st.Step, st.FinishedAt.UnixMilli())
		return err
	})
	return leasedError(s.leaseLost(ctx, l, err), "finish step %d of background task %s", st.Step, l.RunID)
}

// TaskFinish ends a task under its lease in one write transaction: the
// UPDATE matches only while the lease holds (the owner and epoch stay, as
// a record of who ran it last), and the running steps are interrupted at
// end.At, which is also the task's UpdatedAt. EINVALID for another status.
func (s *Store) TaskFinish(ctx context.Context, l store.Lease, end store.TaskEnd) (store.BackgroundTask, error) {
	if err := end.Check(l.RunID); err != nil {
		return store.BackgroundTask{}, err
	}
	var t store.BackgroundTask
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = scanTask(tx.QueryRowContext(ctx,
			`UPDATE background_tasks SET status = ?4, result = ?5, error_code = ?6, error = ?7, finished_at = ?8,
			     updated_at = ?8, lease_until = ?8
			 WHERE `+taskLeaseHolds+` RETURNING `+taskColumns,
			l.RunID, l.Owner, l.Epoch, end.Status, end.Result, end.ErrorCode, end.Error, end.At.UnixMilli()))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, interruptSteps, l.RunID, end.At.UnixMilli())
		return err
	})
	if err != nil {
		return store.BackgroundTask{}, runError(s.leaseLost(ctx, l, err), "finish background task %s", l.RunID)
	}
	return t, nil
}

// TaskSteps returns a task's steps by number; none for a missing task.
func (s *Store) TaskSteps(ctx context.Context, taskID string) ([]store.TaskStep, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+stepColumns+` FROM background_task_steps WHERE task_id = ? ORDER BY step`, taskID)
	if err != nil {
		return nil, translate(err, "list steps of background task %s", taskID)
	}
	list, err := collect(rows, scanStep)
	return list, translate(err, "list steps of background task %s", taskID)
}

// changeTask makes an API change to task id in one write transaction: it
// reads the task's status, lets check refuse by it, runs update (a
// constant UPDATE of this file taking ?1 id and ?2 now, returning
// taskColumns) and interrupts the task's running steps at now.
func (s *Store) changeTask(ctx context.Context, id string, now time.Time, check func(tx *sql.Tx, status store.TaskStatus) error,
	update string) (store.BackgroundTask, error) {
	var t store.BackgroundTask
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var status store.TaskStatus
		err := tx.QueryRowContext(ctx, `SELECT status FROM background_tasks WHERE id = ?`, id).Scan(&status)
		if err != nil {
			return err
		}
		if err := check(tx, status); err != nil {
			return err
		}
		// sqlcheck: update is a constant UPDATE of this file; every value is a parameter
		if t, err = scanTask(tx.QueryRowContext(ctx, update, id, now.UnixMilli())); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, interruptSteps, id, now.UnixMilli())
		return err
	})
	if err != nil {
		return store.BackgroundTask{}, err
	}
	return t, nil
}

// TaskPause turns a running task paused: no owner or lease, the checkpoint
// at its highest completed step, its running steps interrupted and its
// UpdatedAt now.
func (s *Store) TaskPause(ctx context.Context, id string, now time.Time) (store.BackgroundTask, error) {
	t, err := s.changeTask(ctx, id, now, func(_ *sql.Tx, status store.TaskStatus) error {
		if status != store.TaskRunning {
			return errTaskNotRunning
		}
		return nil
	}, `UPDATE background_tasks SET status = 'paused', owner = '', lease_until = NULL, updated_at = ?2,
	        checkpoint_step = max(checkpoint_step, `+highestCompleted+`)
	    WHERE id = ?1 RETURNING `+taskColumns)
	return t, leasedError(err, "pause background task %s", id)
}

// TaskResume turns a paused task running, without owner or lease and with
// its UpdatedAt now, in one write transaction that counts the running
// tasks first.
func (s *Store) TaskResume(ctx context.Context, id string, maxRunning int, now time.Time) (store.BackgroundTask, error) {
	t, err := s.changeTask(ctx, id, now, func(tx *sql.Tx, status store.TaskStatus) error {
		if status != store.TaskPaused {
			return errTaskNotPaused
		}
		return underTaskLimit(ctx, tx, maxRunning)
	}, `UPDATE background_tasks SET status = 'running', owner = '', lease_until = NULL, updated_at = ?2
	    WHERE id = ?1 RETURNING `+taskColumns)
	return t, leasedError(err, "resume background task %s", id)
}

// TaskCancel turns a running or paused task cancelled, finished (and
// updated) at now, without owner or lease, its running steps interrupted.
func (s *Store) TaskCancel(ctx context.Context, id string, now time.Time) (store.BackgroundTask, error) {
	t, err := s.changeTask(ctx, id, now, func(_ *sql.Tx, status store.TaskStatus) error {
		if status.Final() {
			return errTaskFinished
		}
		return nil
	}, `UPDATE background_tasks SET status = 'cancelled', finished_at = ?2, updated_at = ?2, owner = '',
	        lease_until = NULL
	    WHERE id = ?1 RETURNING `+taskColumns)
	return t, leasedError(err, "cancel background task %s", id)
}
