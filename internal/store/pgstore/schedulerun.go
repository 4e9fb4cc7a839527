package pgstore

import (
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

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
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`

// scheduleLeaseHolds matches the run of a lease ($1 run id, $2 owner, $3
// epoch) while that lease holds: the run still has that owner and epoch and
// is running.
const scheduleLeaseHolds = `id = $1 AND owner = $2 AND epoch = $3 AND status = 'running'`

// errActionHeld is why a due action was skipped: another transaction holds
// its advisory lock.
var errActionHeld = errors.New("another transaction holds the action")

// scanScheduleRun reads one schedule_runs row, with its times in UTC and
// its JSON as the stored bytes.
func scanScheduleRun(row pgx.Row) (store.ScheduleRun, error) {
	var r store.ScheduleRun
	var result, trigger *string
	var scheduled time.Time
	var notBefore, started, finished, lease *time.Time
	err := row.Scan(&r.ID, &r.ActionID, &scheduled, &r.TriggeredBy, &r.Attempt, &r.Status, &result, &r.Error,
		&r.PipelineRunID, &r.BackgroundTaskID, &trigger, &notBefore, &started, &finished, &r.Owner, &r.Epoch, &lease,
		&r.Depth)
	r.Result, r.TriggerData = rawJSON(result), rawJSON(trigger)
	r.ScheduledFor, r.NotBefore, r.StartedAt, r.FinishedAt = scheduled.UTC(), utc(notBefore), utc(started), utc(finished)
	r.LeaseUntil = utc(lease)
	return r, err
}

// scheduleRunArgs are the values of scheduleRunColumns for r.
func scheduleRunArgs(r store.ScheduleRun) []any {
	return []any{r.ID, r.ActionID, r.ScheduledFor, r.TriggeredBy, r.Attempt, r.Status, nullJSON(r.Result), r.Error,
		r.PipelineRunID, r.BackgroundTaskID, nullJSON(r.TriggerData), nullTime(r.NotBefore), nullTime(r.StartedAt),
		nullTime(r.FinishedAt), r.Owner, r.Epoch, nullTime(r.LeaseUntil), r.Depth}
}

// dueClaim is one ActionClaimDue call: when it claims, for whom, and how
// the scheduler plans each action.
type dueClaim struct {
	now, leaseUntil time.Time
	owner           string
	plan            func(a store.ScheduledAction, unfinished int) store.ClaimPlan
}

// ActionClaimDue claims due actions one transaction each, until it has
// claimed limit or none is left that it has not seen in this call. Each
// transaction locks the oldest due action FOR UPDATE SKIP LOCKED, then
// takes its advisory lock with pg_try_advisory_xact_lock: when another
// session holds it the action is skipped, and an error ends the call (fail
// closed).
func (s *Store) ActionClaimDue(ctx context.Context, now time.Time, limit int, owner string, leaseUntil time.Time,
	plan func(a store.ScheduledAction, unfinished int) store.ClaimPlan) ([]store.ScheduleRun, error) {
	if err := store.CheckRunOwner(owner); err != nil {
		return nil, err
	}
	c := dueClaim{now: now, leaseUntil: leaseUntil, owner: owner, plan: plan}
	var claimed []store.ScheduleRun
	var seen []int64
	for taken := 0; taken < limit; {
		id, runs, err := s.claimAction(ctx, c, seen)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return claimed, nil
		case errors.Is(err, errActionHeld):
		case err != nil:
			return claimed, claimError(err, owner)
		default:
			taken++
			claimed = append(claimed, runs...)
		}
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

// claimAction claims, in one transaction, the oldest due action not in
// seen: it inserts the runs the plan lists (but those whose occurrence
// exists) and advances the action. It returns the action's id and the
// inserted running runs; pgx.ErrNoRows when no action is due,
// errActionHeld when another session holds the action's advisory lock.
func (s *Store) claimAction(ctx context.Context, c dueClaim, seen []int64) (int64, []store.ScheduleRun, error) {
	var id int64
	var claimed []store.ScheduleRun
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		a, err := nextDueAction(ctx, tx, c.now, seen)
		if err != nil {
			return err
		}
		id = a.ID
		if locked, err := tryLockAction(ctx, tx, a.ID); err != nil || !locked {
			return cmp.Or(err, errActionHeld)
		}
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
func applyPlan(ctx context.Context, tx pgx.Tx, id int64, c dueClaim, plan store.ClaimPlan) ([]store.ScheduleRun, error) {
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
		last = later(last, r.ScheduledFor)
		r, err = scanScheduleRun(tx.QueryRow(ctx,
			scheduleRunInsert+` ON CONFLICT (action_id, scheduled_for) DO NOTHING RETURNING `+scheduleRunColumns,
			scheduleRunArgs(r)...))
		switch {
		case errors.Is(err, pgx.ErrNoRows): // the occurrence exists
		case err != nil:
			return nil, err
		case r.Status == store.ScheduleRunRunning:
			claimed = append(claimed, r)
		}
	}
	return claimed, advanceAction(ctx, tx, id, plan, last, c.now)
}

// ActionFire inserts one run of an action, as ScheduleRun.Fired makes it;
// an event run counts on its action in the same transaction, which locks
// the action first (the order ActionDelete and ScheduleRunFinish lock in).
func (s *Store) ActionFire(ctx context.Context, r store.ScheduleRun) (store.ScheduleRun, error) {
	r, err := r.Fired()
	if err != nil {
		return store.ScheduleRun{}, err
	}
	var got store.ScheduleRun
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if r.CountsOnAction() {
			if err := countEventRun(ctx, tx, r); err != nil {
				return err
			}
		}
		got, err = scanScheduleRun(tx.QueryRow(ctx, scheduleRunInsert+` RETURNING `+scheduleRunColumns,
			scheduleRunArgs(r)...))
		return err
	})
	return got, refError(err, gathering.ENOTFOUND, "action not found", "fire action %d", r.ActionID)
}

// countEventRun counts, in tx, event run r on its action while the action
// is active and below its max_executions, expiring it when it reaches them;
// pgx.ErrNoRows when the action is missing, not active or out of
// executions.
func countEventRun(ctx context.Context, tx pgx.Tx, r store.ScheduleRun) error {
	var id int64
	return tx.QueryRow(ctx,
		`UPDATE scheduled_actions SET execution_count = execution_count + 1,
		     status = CASE WHEN max_executions > 0 AND execution_count + 1 >= max_executions THEN 'expired'
		                   ELSE status END,
		     last_run_at = greatest(last_run_at, $2), updated_at = $2, version = version + 1
		 WHERE id = $1 AND status = 'active' AND (max_executions = 0 OR execution_count < max_executions)
		 RETURNING id`, r.ActionID, r.ScheduledFor).Scan(&id)
}

// ScheduleRunDepthOf returns the greatest depth of the runs linked to
// pipelineRunID or backgroundTaskID ("" links nothing), each found through
// its partial index; ENOTFOUND when none is.
func (s *Store) ScheduleRunDepthOf(ctx context.Context, pipelineRunID, backgroundTaskID string) (int, error) {
	var depth *int
	err := s.pool.QueryRow(ctx,
		`SELECT max(depth) FROM (
		     SELECT depth FROM schedule_runs WHERE pipeline_run_id = $1 AND pipeline_run_id <> ''
		     UNION ALL
		     SELECT depth FROM schedule_runs WHERE background_task_id = $2 AND background_task_id <> '') AS linked`,
		pipelineRunID, backgroundTaskID).Scan(&depth)
	if err == nil && depth == nil {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return 0, translate(err, "find the schedule run of pipeline run %q or task %q", pipelineRunID, backgroundTaskID)
	}
	return *depth, nil
}

// ScheduleRunGet returns a run or ENOTFOUND.
func (s *Store) ScheduleRunGet(ctx context.Context, id string) (store.ScheduleRun, error) {
	r, err := scanScheduleRun(s.pool.QueryRow(ctx, `SELECT `+scheduleRunColumns+` FROM schedule_runs WHERE id = $1`, id))
	return r, translate(err, "get schedule run %s", id)
}

// ScheduleRunList returns a page of an action's runs, newest scheduled_for
// first (each is unique to its action), and the total. A page holds 50
// runs when Limit is not positive, and at most 500.
func (s *Store) ScheduleRunList(ctx context.Context, actionID int64, p store.Page) ([]store.ScheduleRun, int, error) {
	var total int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM schedule_runs WHERE action_id = $1`, actionID).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count runs of action %d", actionID)
	}
	limit, offset := p.ListBounds()
	rows, err := s.pool.Query(ctx, `SELECT `+scheduleRunColumns+` FROM schedule_runs WHERE action_id = $1
		 ORDER BY scheduled_for DESC LIMIT $2 OFFSET $3`, actionID, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list runs of action %d", actionID)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ScheduleRun, error) {
		return scanScheduleRun(row)
	})
	return list, total, translate(err, "list runs of action %d", actionID)
}

// ScheduleRunClaim takes, in one UPDATE, the oldest run that needs an
// owner. Its subquery locks that run FOR UPDATE SKIP LOCKED, so concurrent
// claims pass over a run another claim is taking and never take the same
// one.
func (s *Store) ScheduleRunClaim(ctx context.Context, owner string, now, leaseUntil time.Time) (store.ScheduleRun, error) {
	if err := store.CheckRunOwner(owner); err != nil {
		return store.ScheduleRun{}, err
	}
	r, err := scanScheduleRun(s.pool.QueryRow(ctx,
		`UPDATE schedule_runs SET status = 'running', owner = $1, epoch = epoch + 1, lease_until = $3, started_at = $2,
		     attempt = CASE status WHEN 'running' THEN attempt + 1 ELSE attempt END,
		     triggered_by = CASE status WHEN 'running' THEN 'recovery' ELSE triggered_by END
		 WHERE id = (SELECT id FROM schedule_runs
		             WHERE (status = 'pending' AND (not_before IS NULL OR not_before <= $2))
		                OR (status = 'running' AND lease_until < $2)
		             ORDER BY coalesce(not_before, scheduled_for), id LIMIT 1 FOR UPDATE SKIP LOCKED)
		 RETURNING `+scheduleRunColumns, owner, now, leaseUntil))
	return r, translate(err, "claim a schedule run for %s", owner)
}

// ScheduleRunHeartbeat extends, in one UPDATE, every listed lease that
// holds, and returns the run ids of the others, sorted.
func (s *Store) ScheduleRunHeartbeat(ctx context.Context, leases []store.Lease, leaseUntil time.Time) ([]string, error) {
	return s.extendLeases(ctx, `UPDATE schedule_runs AS r SET lease_until = $4
		 FROM unnest($1::text[], $2::text[], $3::bigint[]) AS l (id, owner, epoch)
		 WHERE r.id = l.id AND r.owner = l.owner AND r.epoch = l.epoch AND r.status = 'running'
		 RETURNING r.id, r.owner, r.epoch`, "schedule run", leases, leaseUntil)
}

// leaseKept explains a write under lease l that changed no row: ENOTFOUND
// when the run is missing, else the lease no longer holds.
func (s *Store) leaseKept(ctx context.Context, l store.Lease, changed int64, err error) error {
	if err == nil && changed == 0 {
		err = s.missingOr(ctx, errLeaseLost, `SELECT EXISTS (SELECT 1 FROM schedule_runs WHERE id = $1)`, l.RunID)
	}
	return err
}

// ScheduleRunRelease turns a run held by l back to pending, in one
// conditional UPDATE.
func (s *Store) ScheduleRunRelease(ctx context.Context, l store.Lease, now time.Time) error {
	tag, err := s.pool.Exec(ctx,
		`UPDATE schedule_runs SET status = 'pending', not_before = $4, owner = '', lease_until = NULL
		 WHERE `+scheduleLeaseHolds, l.RunID, l.Owner, l.Epoch, now)
	return runError(s.leaseKept(ctx, l, tag.RowsAffected(), err), "release schedule run %s", l.RunID)
}

// ScheduleRunRetry turns a run held by l back to pending with its next
// attempt, in one conditional UPDATE.
func (s *Store) ScheduleRunRetry(ctx context.Context, l store.Lease, notBefore time.Time) error {
	tag, err := s.pool.Exec(ctx,
		`UPDATE schedule_runs SET status = 'pending', attempt = attempt + 1, not_before = $4, owner = '',
		     lease_until = NULL
		 WHERE `+scheduleLeaseHolds, l.RunID, l.Owner, l.Epoch, nullTime(notBefore))
	return runError(s.leaseKept(ctx, l, tag.RowsAffected(), err), "retry schedule run %s", l.RunID)
}

// ScheduleRunLink records what a run held by l started, in one conditional
// UPDATE.
func (s *Store) ScheduleRunLink(ctx context.Context, l store.Lease, pipelineRunID, backgroundTaskID string) error {
	tag, err := s.pool.Exec(ctx,
		`UPDATE schedule_runs SET pipeline_run_id = $4, background_task_id = $5 WHERE `+scheduleLeaseHolds,
		l.RunID, l.Owner, l.Epoch, pipelineRunID, backgroundTaskID)
	return runError(s.leaseKept(ctx, l, tag.RowsAffected(), err), "link schedule run %s", l.RunID)
}

// ScheduleRunFinish finishes a run held by l and counts it on its action,
// in one transaction that locks the action first, then the run.
func (s *Store) ScheduleRunFinish(ctx context.Context, l store.Lease, r store.ScheduleRun) error {
	if err := r.CheckFinish(l); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockActionOf(ctx, tx, l.RunID); err != nil {
			return err
		}
		var actionID int64
		err := tx.QueryRow(ctx,
			`UPDATE schedule_runs SET status = $4, result = $5, error = $6,
			     pipeline_run_id = coalesce(nullif($7, ''), pipeline_run_id),
			     background_task_id = coalesce(nullif($8, ''), background_task_id),
			     finished_at = $9, lease_until = least(lease_until, $9)
			 WHERE `+scheduleLeaseHolds+` RETURNING action_id`, l.RunID, l.Owner, l.Epoch, r.Status,
			nullJSON(r.Result), r.Error, r.PipelineRunID, r.BackgroundTaskID, r.FinishedAt).Scan(&actionID)
		if err != nil || r.Status == store.ScheduleRunSkipped {
			return err
		}
		return countFinish(ctx, tx, actionID, r.Status, r.FinishedAt)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		err = s.missingOr(ctx, errLeaseLost, `SELECT EXISTS (SELECT 1 FROM schedule_runs WHERE id = $1)`, l.RunID)
	}
	return runError(err, "finish schedule run %s", l.RunID)
}
