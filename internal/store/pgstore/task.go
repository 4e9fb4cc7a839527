package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

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

// taskLeaseHolds matches the task of a lease ($1 task id, $2 owner, $3
// epoch) while that lease holds: the task is running with that owner and
// epoch. An empty owner is no lease: an unowned task waits for a claim.
const taskLeaseHolds = `id = $1 AND owner = $2 AND owner <> '' AND epoch = $3 AND status = 'running'`

// taskMatch is the condition of a TaskFilter ($1 agent id, $2 user id, $3
// status), whose zero fields match everything.
const taskMatch = `($1::bigint = 0 OR agent_id = $1) AND ($2::bigint = 0 OR user_id = $2) AND ($3 = '' OR status = $3)`

// taskLimitLock takes the transaction advisory lock that TaskCreate and
// TaskResume, the only writes that add a running task, hold while they
// count the running tasks and write. Its key is fixed per schema (the hash
// of "gathering.tasks:" and the schema's name), so installations sharing a
// database, one schema each as the migration lock assumes, bound their
// tasks apart. It is released when the transaction ends.
const taskLimitLock = `SELECT pg_advisory_xact_lock(hashtext('gathering.tasks:' || current_schema()))`

// highestCompleted is the highest completed step of task $1, 0 when none.
const highestCompleted = `coalesce((SELECT max(step) FROM background_task_steps
	WHERE task_id = $1 AND status = 'completed'), 0)`

// interruptSteps turns the running steps of task $1 interrupted, finished
// at $2.
const interruptSteps = `UPDATE background_task_steps SET status = 'interrupted', finished_at = $2
	WHERE task_id = $1 AND status = 'running'`

// taskExists looks up task $1.
const taskExists = `SELECT EXISTS (SELECT 1 FROM background_tasks WHERE id = $1)`

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

// scanTask reads one background_tasks row, with its times in UTC.
func scanTask(row pgx.Row) (store.BackgroundTask, error) {
	var t store.BackgroundTask
	var created, updated time.Time
	var started, finished, lease *time.Time
	err := row.Scan(&t.ID, &t.AgentID, &t.UserID, &t.Goal, &t.Status, &t.MaxSteps, &t.TimeoutSec,
		&t.CheckpointInterval, &t.CheckpointStep, &t.SessionID, &t.UsedMS, &t.Result, &t.ErrorCode, &t.Error,
		&t.InputTokens, &t.OutputTokens, &t.Cost, &created, &started, &updated, &finished, &t.Owner, &t.Epoch, &lease)
	t.CreatedAt, t.UpdatedAt, t.StartedAt, t.FinishedAt = created.UTC(), updated.UTC(), utc(started), utc(finished)
	t.LeaseUntil = utc(lease)
	return t, err
}

// scanStep reads one background_task_steps row, with its times in UTC and
// its JSON as the stored bytes.
func scanStep(row pgx.Row) (store.TaskStep, error) {
	var s store.TaskStep
	var calls, results *string
	var started, finished *time.Time
	err := row.Scan(&s.TaskID, &s.Step, &s.Status, &s.Content, &calls, &results, &s.InputTokens, &s.OutputTokens,
		&s.Cost, &s.ErrorCode, &s.Error, &started, &finished)
	s.ToolCalls, s.ToolResults, s.StartedAt, s.FinishedAt = rawJSON(calls), rawJSON(results), utc(started), utc(finished)
	return s, err
}

// underTaskLimit takes the task limit lock in tx, then refuses with
// ERATELIMITED when maxRunning tasks or more are running.
func underTaskLimit(ctx context.Context, tx pgx.Tx, maxRunning int) error {
	if _, err := tx.Exec(ctx, taskLimitLock); err != nil {
		return err
	}
	var running int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM background_tasks WHERE status = 'running'`).Scan(&running); err != nil {
		return err
	}
	if running >= maxRunning {
		return gathering.Errorf(gathering.ERATELIMITED, "at most %d background tasks run at once", maxRunning)
	}
	return nil
}

// TaskCreate inserts a running task with the id, agent, user, goal, limits,
// session and creation time of t (also its UpdatedAt), in a transaction
// that holds the task limit lock while it counts the running tasks.
func (s *Store) TaskCreate(ctx context.Context, t store.BackgroundTask, maxRunning int) (store.BackgroundTask, error) {
	if err := t.CheckNew(); err != nil {
		return store.BackgroundTask{}, err
	}
	var got store.BackgroundTask
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := underTaskLimit(ctx, tx, maxRunning); err != nil {
			return err
		}
		var err error
		got, err = scanTask(tx.QueryRow(ctx,
			`INSERT INTO background_tasks (id, agent_id, user_id, goal, status, max_steps, timeout_sec,
			     checkpoint_interval, checkpoint_step, session_id, used_ms, result, error_code, error, input_tokens,
			     output_tokens, cost, created_at, updated_at, owner, epoch)
			 VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, 0, $8, 0, '', '', '', 0, 0, 0, $9, $9, '', 0)
			 RETURNING `+taskColumns, t.ID, t.AgentID, t.UserID, t.Goal, t.MaxSteps, t.TimeoutSec, t.CheckpointInterval,
			t.SessionID, t.CreatedAt))
		return err
	})
	if err != nil {
		return store.BackgroundTask{}, leasedError(err, "create background task %s", t.ID)
	}
	return got, nil
}

// TaskGet returns a task or ENOTFOUND.
func (s *Store) TaskGet(ctx context.Context, id string) (store.BackgroundTask, error) {
	t, err := scanTask(s.pool.QueryRow(ctx, `SELECT `+taskColumns+` FROM background_tasks WHERE id = $1`, id))
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
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM background_tasks WHERE `+taskMatch,
		f.AgentID, f.UserID, f.Status).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count background tasks")
	}
	limit, offset := p.ListBounds()
	rows, err := s.pool.Query(ctx,
		`SELECT `+taskColumns+` FROM background_tasks WHERE `+taskMatch+`
		 ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5`, f.AgentID, f.UserID, f.Status, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list background tasks")
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.BackgroundTask, error) { return scanTask(row) })
	return list, total, translate(err, "list background tasks")
}

// TaskCountRunning counts the running tasks.
func (s *Store) TaskCountRunning(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM background_tasks WHERE status = 'running'`).Scan(&n)
	return n, translate(err, "count running background tasks")
}

// TaskClaim takes, in one transaction, the lease of the oldest running task
// that has no owner or whose lease ended before now, and interrupts its
// running steps. The UPDATE's subquery locks that task FOR UPDATE SKIP
// LOCKED, so concurrent claims pass over a task another claim is taking
// and never take the same one.
func (s *Store) TaskClaim(ctx context.Context, owner string, now, leaseUntil time.Time) (store.BackgroundTask, error) {
	if err := store.CheckTaskOwner(owner); err != nil {
		return store.BackgroundTask{}, err
	}
	var t store.BackgroundTask
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		t, err = scanTask(tx.QueryRow(ctx,
			`UPDATE background_tasks SET owner = $1, epoch = epoch + 1, lease_until = $3,
			     started_at = coalesce(started_at, $2)
			 WHERE id = (SELECT id FROM background_tasks
			             WHERE status = 'running' AND (owner = '' OR lease_until < $2)
			             ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
			 RETURNING `+taskColumns, owner, now, leaseUntil))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, interruptSteps, t.ID, now)
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
	return s.extendLeases(ctx, `UPDATE background_tasks AS t SET lease_until = $4
		 FROM unnest($1::text[], $2::text[], $3::bigint[]) AS l (id, owner, epoch)
		 WHERE t.id = l.id AND t.owner = l.owner AND t.owner <> '' AND t.epoch = l.epoch AND t.status = 'running'
		 RETURNING t.id, t.owner, t.epoch`, "background task", leases, leaseUntil)
}

// lockTask locks the task of l FOR UPDATE in tx while l holds, so that no
// pause, cancel or claim changes it before tx ends, and returns its
// checkpoint step and step limit; pgx.ErrNoRows when l does not hold.
func lockTask(ctx context.Context, tx pgx.Tx, l store.Lease) (checkpoint, maxSteps int, err error) {
	err = tx.QueryRow(ctx, `SELECT checkpoint_step, max_steps FROM background_tasks WHERE `+taskLeaseHolds+` FOR UPDATE`,
		l.RunID, l.Owner, l.Epoch).Scan(&checkpoint, &maxSteps)
	return checkpoint, maxSteps, err
}

// leaseLost explains the pgx.ErrNoRows of lockTask: ENOTFOUND when the task
// of l is missing, else the lease no longer holds. Other errors pass.
func (s *Store) leaseLost(ctx context.Context, l store.Lease, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return s.missingOr(ctx, errLeaseLost, taskExists, l.RunID)
	}
	return err
}

// TaskRelease frees, in one transaction, a lease that holds: no owner,
// the lease ended at now and the running steps interrupted; the checkpoint
// stays. Its conditional UPDATE waits for a write under the lease in
// flight, so a step that write finished is not interrupted. A lease that
// does not hold (or a missing task) is left alone.
func (s *Store) TaskRelease(ctx context.Context, l store.Lease, now time.Time) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE background_tasks SET owner = '', lease_until = $4 WHERE `+taskLeaseHolds,
			l.RunID, l.Owner, l.Epoch, now)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, interruptSteps, l.RunID, now)
		return err
	})
	return translate(err, "release background task %s", l.RunID)
}

// TaskStepStart records the start of a step, started at s.StartedAt (its
// other fields are ignored), in one transaction that locks the task while
// the lease holds. EINVALID too when s is not of the task of l.
func (s *Store) TaskStepStart(ctx context.Context, l store.Lease, st store.TaskStep) error {
	if err := st.CheckLease(l); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		checkpoint, maxSteps, err := lockTask(ctx, tx, l)
		if err != nil {
			return err
		}
		if err := st.CheckNumber(checkpoint, maxSteps); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM background_task_steps WHERE task_id = $1 AND step >= $2`,
			st.TaskID, st.Step); err != nil {
			return err
		}
		_, err = tx.Exec(ctx,
			`INSERT INTO background_task_steps (task_id, step, status, content, input_tokens, output_tokens, cost,
			     error_code, error, started_at)
			 VALUES ($1, $2, 'running', '', 0, 0, 0, '', '', $3)`, st.TaskID, st.Step, nullTime(st.StartedAt))
		return err
	})
	return leasedError(s.leaseLost(ctx, l, err), "start step %d of background task %s", st.Step, l.RunID)
}

// TaskStepFinish records the end of a running step and adds it to its task,
// in one transaction that locks the task while the lease holds; the task's
// UpdatedAt becomes the step's FinishedAt. EINVALID too when s is not of
// the task of l.
func (s *Store) TaskStepFinish(ctx context.Context, l store.Lease, st store.TaskStep, p store.TaskProgress) error {
	if err := st.CheckEnd(l); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, _, err := lockTask(ctx, tx, l); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx,
			`UPDATE background_task_steps SET status = $3, content = $4, tool_calls = $5, tool_results = $6,
			     input_tokens = $7, output_tokens = $8, cost = $9, error_code = $10, error = $11, finished_at = $12
			 WHERE task_id = $1 AND step = $2 AND status = 'running'`,
			st.TaskID, st.Step, st.Status, st.Content, nullJSON(st.ToolCalls), nullJSON(st.ToolResults),
			st.InputTokens, st.OutputTokens, st.Cost, st.ErrorCode, st.Error, nullTime(st.FinishedAt))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.NoRunningStepError(st)
		}
		_, err = tx.Exec(ctx,
			`UPDATE background_tasks SET input_tokens = input_tokens + $2, output_tokens = output_tokens + $3,
			     cost = cost + $4, used_ms = used_ms + $5, session_id = coalesce(nullif($6::text, ''), session_id),
			     checkpoint_step = CASE WHEN $7::boolean THEN $8 ELSE checkpoint_step END, updated_at = $9
			 WHERE id = $1`, st.TaskID, st.InputTokens, st.OutputTokens, st.Cost, p.UsedMS, p.SessionID, p.Checkpoint,
			st.Step, st.FinishedAt)
		return err
	})
	return leasedError(s.leaseLost(ctx, l, err), "finish step %d of background task %s", st.Step, l.RunID)
}

// TaskFinish ends a task under its lease in one transaction: the UPDATE
// matches only while the lease holds (the owner and epoch stay, as a record
// of who ran it last), and the running steps are interrupted at end.At,
// which is also the task's UpdatedAt. EINVALID for another status.
func (s *Store) TaskFinish(ctx context.Context, l store.Lease, end store.TaskEnd) (store.BackgroundTask, error) {
	if err := end.Check(l.RunID); err != nil {
		return store.BackgroundTask{}, err
	}
	var t store.BackgroundTask
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		t, err = scanTask(tx.QueryRow(ctx,
			`UPDATE background_tasks SET status = $4, result = $5, error_code = $6, error = $7, finished_at = $8,
			     updated_at = $8, lease_until = $8
			 WHERE `+taskLeaseHolds+` RETURNING `+taskColumns,
			l.RunID, l.Owner, l.Epoch, end.Status, end.Result, end.ErrorCode, end.Error, end.At))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, interruptSteps, l.RunID, end.At)
		return err
	})
	if err != nil {
		return store.BackgroundTask{}, runError(s.leaseLost(ctx, l, err), "finish background task %s", l.RunID)
	}
	return t, nil
}

// TaskSteps returns a task's steps by number; none for a missing task.
func (s *Store) TaskSteps(ctx context.Context, taskID string) ([]store.TaskStep, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+stepColumns+` FROM background_task_steps WHERE task_id = $1 ORDER BY step`, taskID)
	if err != nil {
		return nil, translate(err, "list steps of background task %s", taskID)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.TaskStep, error) { return scanStep(row) })
	return list, translate(err, "list steps of background task %s", taskID)
}

// changeTask makes an API change to task id in one transaction: it locks
// the task FOR UPDATE, lets check refuse by its status, runs update (a
// constant UPDATE of this file taking $1 id and $2 now, returning
// taskColumns) and interrupts the task's running steps at now. The lock
// comes first so that update reads the steps as the lease's last write
// left them.
func (s *Store) changeTask(ctx context.Context, id string, now time.Time, check func(tx pgx.Tx, status store.TaskStatus) error,
	update string) (store.BackgroundTask, error) {
	var t store.BackgroundTask
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var status store.TaskStatus
		err := tx.QueryRow(ctx, `SELECT status FROM background_tasks WHERE id = $1 FOR UPDATE`, id).Scan(&status)
		if err != nil {
			return err
		}
		if err := check(tx, status); err != nil {
			return err
		}
		// sqlcheck: update is a constant UPDATE of this file; every value is a parameter
		if t, err = scanTask(tx.QueryRow(ctx, update, id, now)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, interruptSteps, id, now)
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
	t, err := s.changeTask(ctx, id, now, func(_ pgx.Tx, status store.TaskStatus) error {
		if status != store.TaskRunning {
			return errTaskNotRunning
		}
		return nil
	}, `UPDATE background_tasks SET status = 'paused', owner = '', lease_until = NULL, updated_at = $2,
	        checkpoint_step = greatest(checkpoint_step, `+highestCompleted+`)
	    WHERE id = $1 RETURNING `+taskColumns)
	return t, leasedError(err, "pause background task %s", id)
}

// TaskResume turns a paused task running, without owner or lease and with
// its UpdatedAt now, in a transaction that holds the task limit lock while
// it counts the running tasks.
func (s *Store) TaskResume(ctx context.Context, id string, maxRunning int, now time.Time) (store.BackgroundTask, error) {
	t, err := s.changeTask(ctx, id, now, func(tx pgx.Tx, status store.TaskStatus) error {
		if status != store.TaskPaused {
			return errTaskNotPaused
		}
		return underTaskLimit(ctx, tx, maxRunning)
	}, `UPDATE background_tasks SET status = 'running', owner = '', lease_until = NULL, updated_at = $2
	    WHERE id = $1 RETURNING `+taskColumns)
	return t, leasedError(err, "resume background task %s", id)
}

// TaskCancel turns a running or paused task cancelled, finished (and
// updated) at now, without owner or lease, its running steps interrupted.
func (s *Store) TaskCancel(ctx context.Context, id string, now time.Time) (store.BackgroundTask, error) {
	t, err := s.changeTask(ctx, id, now, func(_ pgx.Tx, status store.TaskStatus) error {
		if status.Final() {
			return errTaskFinished
		}
		return nil
	}, `UPDATE background_tasks SET status = 'cancelled', finished_at = $2, updated_at = $2, owner = '',
	        lease_until = NULL
	    WHERE id = $1 RETURNING `+taskColumns)
	return t, leasedError(err, "cancel background task %s", id)
}
