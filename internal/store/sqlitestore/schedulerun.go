package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// scheduleRunColumns are the columns scanScheduleRun reads and
// scheduleRunArgs gives, in order.
const scheduleRunColumns = `id, action_id, scheduled_for, triggered_by, attempt, status, result, error,
	pipeline_run_id, background_task_id, trigger_data, not_before, started_at, finished_at, owner, epoch, lease_until,
	depth`

// scheduleRunInsert inserts the values of scheduleRunColumns.
const scheduleRunInsert = `INSERT INTO schedule_runs (` + scheduleRunColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// scheduleLeaseHolds matches the run of a lease (?1 run id, ?2 owner, ?3
// epoch) while that lease holds: the run still has that owner and epoch and
// is running.
const scheduleLeaseHolds = `id = ?1 AND owner = ?2 AND epoch = ?3 AND status = 'running'`

// scanScheduleRun reads one schedule_runs row, converting its times to UTC
// and keeping its JSON as the stored bytes.
func scanScheduleRun(row scanner) (store.ScheduleRun, error) {
	var r store.ScheduleRun
	var result, trigger sql.NullString
	var scheduled int64
	var notBefore, started, finished, lease sql.NullInt64
	err := row.Scan(&r.ID, &r.ActionID, &scheduled, &r.TriggeredBy, &r.Attempt, &r.Status, &result, &r.Error,
		&r.PipelineRunID, &r.BackgroundTaskID, &trigger, &notBefore, &started, &finished, &r.Owner, &r.Epoch, &lease,
		&r.Depth)
	r.Result, r.TriggerData = rawJSON(result), rawJSON(trigger)
	r.ScheduledFor, r.NotBefore, r.StartedAt = fromMS(scheduled), fromNullMS(notBefore), fromNullMS(started)
	r.FinishedAt, r.LeaseUntil = fromNullMS(finished), fromNullMS(lease)
	return r, err
}

// scheduleRunArgs are the values of scheduleRunColumns for r.
func scheduleRunArgs(r store.ScheduleRun) []any {
	return []any{r.ID, r.ActionID, r.ScheduledFor.UnixMilli(), r.TriggeredBy, r.Attempt, r.Status, nullJSON(r.Result),
		r.Error, r.PipelineRunID, r.BackgroundTaskID, nullJSON(r.TriggerData), nullMS(r.NotBefore),
		nullMS(r.StartedAt), nullMS(r.FinishedAt), r.Owner, r.Epoch, nullMS(r.LeaseUntil), r.Depth}
}

// dueClaim is one ActionClaimDue call: when it claims, for whom, and how
// the scheduler plans each action.
type dueClaim struct {
	now, leaseUntil time.Time
	owner           string
	plan            func(a store.ScheduledAction, unfinished int) store.ClaimPlan
}

// ActionClaimDue claims due actions one write transaction each, until it
// has claimed limit or none is left that it has not seen in this call. The
// one writer serializes the claims, so an action is never taken twice and
// there is no lock to skip.
func (s *Store) ActionClaimDue(ctx context.Context, now time.Time, limit int, owner string, leaseUntil time.Time,
	plan func(a store.ScheduledAction, unfinished int) store.ClaimPlan) ([]store.ScheduleRun, error) {
	if err := store.CheckRunOwner(owner); err != nil {
		return nil, err
	}
	c := dueClaim{now: now, leaseUntil: leaseUntil, owner: owner, plan: plan}
	var claimed []store.ScheduleRun
	var seen []int64
	for range max(limit, 0) {
		id, runs, err := s.claimAction(ctx, c, seen)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return claimed, nil
		case err != nil:
			return claimed, claimError(err, owner)
		}
		claimed = append(claimed, runs...)
		seen = append(seen, id)
	}
	return claimed, nil
}

// claimError is translate, except that an error of ours (a plan refused)
// is returned as it is.
func claimError(err error, owner string) error {
	if _, ours := errors.AsType[*gathering.Error](err); ours {
		return err
	}
	return translate(err, "claim due actions for %s", owner)
}

// claimAction claims, in one write transaction, the oldest due action not
// in seen: it inserts the runs the plan lists (but those whose occurrence
// exists) and advances the action. It returns the action's id and the
// inserted running runs; sql.ErrNoRows when no action is due.
func (s *Store) claimAction(ctx context.Context, c dueClaim, seen []int64) (int64, []store.ScheduleRun, error) {
	var id int64
	var claimed []store.ScheduleRun
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		a, err := nextDueAction(ctx, tx, c.now, seen)
		if err != nil {
			return err
		}
		id = a.ID
		unfinished, err := countUnfinished(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		claimed, err = applyPlan(ctx, tx, a.ID, c, c.plan(a, unfinished))
		return err
	})
	return id, claimed, err
}

// applyPlan records in tx what plan decided for action id: its runs,
// inserted unless their occurrence exists, and the action's advance. It
// returns the inserted running runs.
func applyPlan(ctx context.Context, tx *sql.Tx, id int64, c dueClaim, plan store.ClaimPlan) ([]store.ScheduleRun, error) {
	if err := plan.Check(id); err != nil {
		return nil, err
	}
	var claimed []store.ScheduleRun
	var last time.Time
	for _, planned := range plan.Runs {
		r, err := planned.Planned(id, c.owner, c.now, c.leaseUntil)
		if err != nil {
			return nil, err
		}
		if r.ScheduledFor.After(last) {
			last = r.ScheduledFor
		}
		r, err = scanScheduleRun(tx.QueryRowContext(ctx,
			scheduleRunInsert+` ON CONFLICT (action_id, scheduled_for) DO NOTHING RETURNING `+scheduleRunColumns,
			scheduleRunArgs(r)...))
		switch {
		case errors.Is(err, sql.ErrNoRows): // the occurrence exists
		case err != nil:
			return nil, err
		case r.Status == store.ScheduleRunRunning:
			claimed = append(claimed, r)
		}
	}
	return claimed, advanceAction(ctx, tx, id, plan, last, c.now)
}

// ActionFire inserts one run of an action, as ScheduleRun.Fired makes it;
// an event run counts on its action in the same write transaction.
func (s *Store) ActionFire(ctx context.Context, r store.ScheduleRun) (store.ScheduleRun, error) {
	r, err := r.Fired()
	if err != nil {
		return store.ScheduleRun{}, err
	}
	var got store.ScheduleRun
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		if r.CountsOnAction() {
			if err := countEventRun(ctx, tx, r); err != nil {
				return err
			}
		}
		got, err = scanScheduleRun(tx.QueryRowContext(ctx, scheduleRunInsert+` RETURNING `+scheduleRunColumns,
			scheduleRunArgs(r)...))
		return err
	})
	return got, refError(err, gathering.ENOTFOUND, "action not found", "fire action %d", r.ActionID)
}

// countEventRun counts, in tx, event run r on its action while the action
// is active and below its max_executions, expiring it when it reaches them;
// sql.ErrNoRows when the action is missing, not active or out of
// executions.
func countEventRun(ctx context.Context, tx *sql.Tx, r store.ScheduleRun) error {
	var id int64
	return tx.QueryRowContext(ctx,
		`UPDATE scheduled_actions SET execution_count = execution_count + 1,
		     status = CASE WHEN max_executions > 0 AND execution_count + 1 >= max_executions THEN 'expired'
		                   ELSE status END,
		     last_run_at = max(coalesce(last_run_at, ?2), ?2), updated_at = ?2, version = version + 1
		 WHERE id = ?1 AND status = 'active' AND (max_executions = 0 OR execution_count < max_executions)
		 RETURNING id`, r.ActionID, r.ScheduledFor.UnixMilli()).Scan(&id)
}

// ScheduleRunDepthOf returns the greatest depth of the runs linked to
// pipelineRunID or backgroundTaskID ("" links nothing), each found through
// its partial index; ENOTFOUND when none is.
func (s *Store) ScheduleRunDepthOf(ctx context.Context, pipelineRunID, backgroundTaskID string) (int, error) {
	var depth sql.NullInt64
	err := s.read.QueryRowContext(ctx,
		`SELECT max(depth) FROM (
		     SELECT depth FROM schedule_runs WHERE pipeline_run_id = ?1 AND pipeline_run_id <> ''
		     UNION ALL
		     SELECT depth FROM schedule_runs WHERE background_task_id = ?2 AND background_task_id <> '')`,
		pipelineRunID, backgroundTaskID).Scan(&depth)
	if err == nil && !depth.Valid {
		err = sql.ErrNoRows
	}
	if err != nil {
		return 0, translate(err, "find the schedule run of pipeline run %q or task %q", pipelineRunID, backgroundTaskID)
	}
	return int(depth.Int64), nil
}

// ScheduleRunGet returns a run or ENOTFOUND.
func (s *Store) ScheduleRunGet(ctx context.Context, id string) (store.ScheduleRun, error) {
	r, err := scanScheduleRun(s.read.QueryRowContext(ctx, `SELECT `+scheduleRunColumns+` FROM schedule_runs WHERE id = ?`, id))
	return r, translate(err, "get schedule run %s", id)
}

// ScheduleRunList returns a page of an action's runs, newest scheduled_for
// first (each is unique to its action), and the total. A page holds 50
// runs when Limit is not positive, and at most 500.
func (s *Store) ScheduleRunList(ctx context.Context, actionID int64, p store.Page) ([]store.ScheduleRun, int, error) {
	var total int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM schedule_runs WHERE action_id = ?`, actionID).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count runs of action %d", actionID)
	}
	limit, offset := p.ListBounds()
	rows, err := s.read.QueryContext(ctx, `SELECT `+scheduleRunColumns+` FROM schedule_runs WHERE action_id = ?
		 ORDER BY scheduled_for DESC LIMIT ? OFFSET ?`, actionID, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list runs of action %d", actionID)
	}
	list, err := collect(rows, scanScheduleRun)
	return list, total, translate(err, "list runs of action %d", actionID)
}

// ScheduleRunClaim takes, in one UPDATE on the one writer, the oldest run
// that needs an owner.
func (s *Store) ScheduleRunClaim(ctx context.Context, owner string, now, leaseUntil time.Time) (store.ScheduleRun, error) {
	if err := store.CheckRunOwner(owner); err != nil {
		return store.ScheduleRun{}, err
	}
	r, err := scanScheduleRun(s.write.QueryRowContext(ctx,
		`UPDATE schedule_runs SET status = 'running', owner = ?1, epoch = epoch + 1, lease_until = ?3, started_at = ?2,
		     attempt = CASE status WHEN 'running' THEN attempt + 1 ELSE attempt END,
		     triggered_by = CASE status WHEN 'running' THEN 'recovery' ELSE triggered_by END
		 WHERE id = (SELECT id FROM schedule_runs
		             WHERE (status = 'pending' AND (not_before IS NULL OR not_before <= ?2))
		                OR (status = 'running' AND lease_until < ?2)
		             ORDER BY coalesce(not_before, scheduled_for), id LIMIT 1)
		 RETURNING `+scheduleRunColumns, owner, now.UnixMilli(), leaseUntil.UnixMilli()))
	return r, translate(err, "claim a schedule run for %s", owner)
}

// ScheduleRunHeartbeat extends, in one UPDATE, every listed lease that
// holds, and returns the run ids of the others, sorted.
func (s *Store) ScheduleRunHeartbeat(ctx context.Context, leases []store.Lease, leaseUntil time.Time) ([]string, error) {
	return s.extendLeases(ctx, `UPDATE schedule_runs SET lease_until = ?2
		 FROM (SELECT value ->> 'RunID' AS lease_id, value ->> 'Owner' AS lease_owner,
		              value ->> 'Epoch' AS lease_epoch FROM json_each(?1)) AS l
		 WHERE id = lease_id AND owner = lease_owner AND epoch = lease_epoch AND status = 'running'
		 RETURNING id, owner, epoch`, "schedule run", leases, leaseUntil)
}

// leaseKept explains a write under lease l that changed no row: ENOTFOUND
// when the run is missing, else the lease no longer holds.
func (s *Store) leaseKept(ctx context.Context, l store.Lease, res sql.Result, err error) error {
	err = refuseUnchanged(res, err, errLeaseLost)
	if errors.Is(err, errLeaseLost) {
		err = s.missingOr(ctx, err, `SELECT EXISTS (SELECT 1 FROM schedule_runs WHERE id = ?)`, l.RunID)
	}
	return err
}

// ScheduleRunRelease turns a run held by l back to pending, in one
// conditional UPDATE.
func (s *Store) ScheduleRunRelease(ctx context.Context, l store.Lease, now time.Time) error {
	res, err := s.write.ExecContext(ctx,
		`UPDATE schedule_runs SET status = 'pending', not_before = ?4, owner = '', lease_until = NULL
		 WHERE `+scheduleLeaseHolds, l.RunID, l.Owner, l.Epoch, now.UnixMilli())
	return runError(s.leaseKept(ctx, l, res, err), "release schedule run %s", l.RunID)
}

// ScheduleRunRetry turns a run held by l back to pending with its next
// attempt, in one conditional UPDATE.
func (s *Store) ScheduleRunRetry(ctx context.Context, l store.Lease, notBefore time.Time) error {
	res, err := s.write.ExecContext(ctx,
		`UPDATE schedule_runs SET status = 'pending', attempt = attempt + 1, not_before = ?4, owner = '',
		     lease_until = NULL
		 WHERE `+scheduleLeaseHolds, l.RunID, l.Owner, l.Epoch, nullMS(notBefore))
	return runError(s.leaseKept(ctx, l, res, err), "retry schedule run %s", l.RunID)
}

// ScheduleRunLink records what a run held by l started, in one conditional
// UPDATE.
func (s *Store) ScheduleRunLink(ctx context.Context, l store.Lease, pipelineRunID, backgroundTaskID string) error {
	res, err := s.write.ExecContext(ctx,
		`UPDATE schedule_runs SET pipeline_run_id = ?4, background_task_id = ?5 WHERE `+scheduleLeaseHolds,
		l.RunID, l.Owner, l.Epoch, pipelineRunID, backgroundTaskID)
	return runError(s.leaseKept(ctx, l, res, err), "link schedule run %s", l.RunID)
}

// ScheduleRunFinish finishes a run held by l and counts it on its action,
// in one write transaction.
func (s *Store) ScheduleRunFinish(ctx context.Context, l store.Lease, r store.ScheduleRun) error {
	if err := r.CheckFinish(l); err != nil {
		return err
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var actionID int64
		err := tx.QueryRowContext(ctx,
			`UPDATE schedule_runs SET status = ?4, result = ?5, error = ?6,
			     pipeline_run_id = coalesce(nullif(?7, ''), pipeline_run_id),
			     background_task_id = coalesce(nullif(?8, ''), background_task_id),
			     finished_at = ?9, lease_until = min(lease_until, ?9)
			 WHERE `+scheduleLeaseHolds+` RETURNING action_id`, l.RunID, l.Owner, l.Epoch, r.Status,
			nullJSON(r.Result), r.Error, r.PipelineRunID, r.BackgroundTaskID, r.FinishedAt.UnixMilli()).Scan(&actionID)
		if err != nil || r.Status == store.ScheduleRunSkipped {
			return err
		}
		return countFinish(ctx, tx, actionID, r.Status, r.FinishedAt)
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = s.missingOr(ctx, errLeaseLost, `SELECT EXISTS (SELECT 1 FROM schedule_runs WHERE id = ?)`, l.RunID)
	}
	return runError(err, "finish schedule run %s", l.RunID)
}
