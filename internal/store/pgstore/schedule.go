package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gathering/gathering/internal/store"
)

// actionFields are the columns of an action but id and version, in the
// order actionArgs gives them: first the 28 that ActionUpdate writes.
const actionFields = `name, description, agent_id, circle_id, action_type, action_config, schedule_type,
	cron_expression, time_zone, interval_sec, run_at, event_trigger, start_date, end_date, max_executions, status,
	overlap_policy, catchup_policy, catchup_window_sec, catchup_max, max_retries, retry_delay_sec,
	pause_after_failures, timeout_sec, next_run_at, consecutive_failures, tags, updated_at, last_run_at,
	execution_count, created_by, created_at`

// actionColumns are the columns scanAction reads, in order.
const actionColumns = `id, ` + actionFields + `, version`

// actionMatch is the condition of an ActionFilter ($1 status, $2 action
// type, $3 agent id, $4 tag), whose zero fields match everything.
const actionMatch = `($1 = '' OR status = $1) AND ($2 = '' OR action_type = $2)
	AND ($3::bigint = 0 OR agent_id = $3) AND ($4 = '' OR tags::jsonb @> jsonb_build_array($4::text))`

// actionDue matches the actions the scheduler takes when they are due:
// active and timed (not event).
const actionDue = `status = 'active' AND schedule_type <> 'event'`

// scheduleLockKey is the key of the advisory lock ActionClaimDue takes on
// the action whose id is $1. Its class names the schema, so that
// installations sharing a database (one schema each, as the migration lock
// assumes) never skip each other's actions; its object is the id's low 31
// bits, which fit the int4 the two-key lock takes.
const scheduleLockKey = `hashtext('gathering.schedule:' || current_schema()), ($1::bigint % 2147483648)::int4`

// errActionChanged is why an update of an action matched no row although
// the action exists.
const errActionChanged refusal = "the action was changed meanwhile"

// scanAction reads one scheduled_actions row, with its times in UTC, its
// JSON as the stored bytes and its tags decoded.
func scanAction(row pgx.Row) (store.ScheduledAction, error) {
	var a store.ScheduledAction
	var agent, circle, creator *int64
	var config, tags string
	var trigger *string
	var runAt, start, end, next, last *time.Time
	var created, updated time.Time
	err := row.Scan(&a.ID, &a.Name, &a.Description, &agent, &circle, &a.ActionType, &config, &a.ScheduleType,
		&a.CronExpression, &a.TimeZone, &a.IntervalSec, &runAt, &trigger, &start, &end, &a.MaxExecutions, &a.Status,
		&a.OverlapPolicy, &a.CatchupPolicy, &a.CatchupWindowSec, &a.CatchupMax, &a.MaxRetries, &a.RetryDelaySec,
		&a.PauseAfterFailures, &a.TimeoutSec, &next, &a.ConsecutiveFailures, &tags, &updated, &last,
		&a.ExecutionCount, &creator, &created, &a.Version)
	if err != nil {
		return a, err
	}
	a.AgentID, a.CircleID, a.CreatedBy = idOf(agent), idOf(circle), idOf(creator)
	a.ActionConfig, a.EventTrigger = json.RawMessage(config), rawJSON(trigger)
	a.RunAt, a.StartDate, a.EndDate, a.NextRunAt, a.LastRunAt = utc(runAt), utc(start), utc(end), utc(next), utc(last)
	a.CreatedAt, a.UpdatedAt = created.UTC(), updated.UTC()
	a.Tags, err = decodeTags(tags)
	return a, err
}

// actionArgs are the values of actionFields for a.
func actionArgs(a store.ScheduledAction) []any {
	return []any{a.Name, a.Description, nullID(a.AgentID), nullID(a.CircleID), a.ActionType, string(a.ActionConfig),
		a.ScheduleType, a.CronExpression, a.TimeZone, a.IntervalSec, nullTime(a.RunAt), nullJSON(a.EventTrigger),
		nullTime(a.StartDate), nullTime(a.EndDate), a.MaxExecutions, a.Status, a.OverlapPolicy, a.CatchupPolicy,
		a.CatchupWindowSec, a.CatchupMax, a.MaxRetries, a.RetryDelaySec, a.PauseAfterFailures, a.TimeoutSec,
		nullTime(a.NextRunAt), a.ConsecutiveFailures, listJSON(a.Tags), a.UpdatedAt, nullTime(a.LastRunAt),
		a.ExecutionCount, nullID(a.CreatedBy), a.CreatedAt}
}

// ActionCreate inserts an action at version 1 and returns it with its id.
func (s *Store) ActionCreate(ctx context.Context, a store.ScheduledAction) (store.ScheduledAction, error) {
	if err := a.Check(); err != nil {
		return store.ScheduledAction{}, err
	}
	got, err := scanAction(s.pool.QueryRow(ctx,
		`INSERT INTO scheduled_actions (`+actionFields+`, version)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
		     $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, 1)
		 RETURNING `+actionColumns, actionArgs(a)...))
	return got, translate(err, "create action %q", a.Name)
}

// ActionGet returns an action or ENOTFOUND.
func (s *Store) ActionGet(ctx context.Context, id int64) (store.ScheduledAction, error) {
	a, err := scanAction(s.pool.QueryRow(ctx, `SELECT `+actionColumns+` FROM scheduled_actions WHERE id = $1`, id))
	return a, translate(err, "get action %d", id)
}

// ActionList returns a page of the actions that match, by id, and the
// total count of matches. A page holds 50 actions when Limit is not
// positive, and at most 500.
func (s *Store) ActionList(ctx context.Context, f store.ActionFilter, p store.Page) ([]store.ScheduledAction, int, error) {
	if err := f.Check(); err != nil {
		return nil, 0, err
	}
	var total int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM scheduled_actions WHERE `+actionMatch,
		f.Status, f.ActionType, f.AgentID, f.Tag).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count actions")
	}
	limit, offset := p.ListBounds()
	rows, err := s.pool.Query(ctx,
		`SELECT `+actionColumns+` FROM scheduled_actions WHERE `+actionMatch+` ORDER BY id LIMIT $5 OFFSET $6`,
		f.Status, f.ActionType, f.AgentID, f.Tag, limit, offset)
	list, err := collectActions(rows, err)
	return list, total, translate(err, "list actions")
}

// collectActions reads every row of a query of actionColumns, unless the
// query failed.
func collectActions(rows pgx.Rows, err error) ([]store.ScheduledAction, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ScheduledAction, error) { return scanAction(row) })
}

// ActionUpdate writes the first 28 actionFields in one conditional UPDATE
// that matches only while the stored version is still a.Version, and bumps
// the version. When it matches no row it tells a missing action
// (ENOTFOUND) from a changed one (ECONFLICT).
func (s *Store) ActionUpdate(ctx context.Context, a store.ScheduledAction) (store.ScheduledAction, error) {
	if err := a.Check(); err != nil {
		return store.ScheduledAction{}, err
	}
	got, err := scanAction(s.pool.QueryRow(ctx,
		`UPDATE scheduled_actions SET name = $1, description = $2, agent_id = $3, circle_id = $4, action_type = $5,
		     action_config = $6, schedule_type = $7, cron_expression = $8, time_zone = $9, interval_sec = $10,
		     run_at = $11, event_trigger = $12, start_date = $13, end_date = $14, max_executions = $15, status = $16,
		     overlap_policy = $17, catchup_policy = $18, catchup_window_sec = $19, catchup_max = $20,
		     max_retries = $21, retry_delay_sec = $22, pause_after_failures = $23, timeout_sec = $24,
		     next_run_at = $25, consecutive_failures = $26, tags = $27, updated_at = $28, version = version + 1
		 WHERE id = $29 AND version = $30 RETURNING `+actionColumns,
		append(actionArgs(a)[:28], a.ID, a.Version)...))
	if errors.Is(err, pgx.ErrNoRows) {
		err = s.missingOr(ctx, errActionChanged, `SELECT EXISTS (SELECT 1 FROM scheduled_actions WHERE id = $1)`, a.ID)
	}
	return got, runError(err, "update action %d at version %d", a.ID, a.Version)
}

// ActionDelete deletes an action, and its runs with it (ON DELETE
// CASCADE); ENOTFOUND.
func (s *Store) ActionDelete(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM scheduled_actions WHERE id = $1`, id)
	return affectedOne(tag.RowsAffected(), err, "delete action %d", id)
}

// ActionNextDue returns the earlier of the first NextRunAt of the due
// actions and the first NotBefore (or ScheduledFor) of the pending runs,
// each read from its index.
func (s *Store) ActionNextDue(ctx context.Context) (time.Time, error) {
	var next *time.Time
	err := s.pool.QueryRow(ctx,
		`SELECT least((SELECT min(next_run_at) FROM scheduled_actions WHERE `+actionDue+`),
		              (SELECT min(coalesce(not_before, scheduled_for)) FROM schedule_runs WHERE status = 'pending'))`,
	).Scan(&next)
	if err == nil && next == nil {
		err = pgx.ErrNoRows
	}
	return utc(next), translate(err, "find when the next action is due")
}

// ActionsByEvent returns the active event actions by id.
func (s *Store) ActionsByEvent(ctx context.Context) ([]store.ScheduledAction, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+actionColumns+` FROM scheduled_actions
		 WHERE status = 'active' AND schedule_type = 'event' ORDER BY id`)
	list, err := collectActions(rows, err)
	return list, translate(err, "list event actions")
}

// nextDueAction locks, in tx, the oldest due action at now that is not in
// seen, skipping the rows other transactions lock; pgx.ErrNoRows when there
// is none.
func nextDueAction(ctx context.Context, tx pgx.Tx, now time.Time, seen []int64) (store.ScheduledAction, error) {
	if seen == nil {
		seen = []int64{} // not NULL, which no id would be unequal to
	}
	return scanAction(tx.QueryRow(ctx,
		`SELECT `+actionColumns+` FROM scheduled_actions
		 WHERE `+actionDue+` AND next_run_at <= $1 AND id <> ALL($2::bigint[])
		 ORDER BY next_run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`, now, seen))
}

// tryLockAction takes, in tx, the advisory lock on action id until tx
// ends, and reports whether it could.
func tryLockAction(ctx context.Context, tx pgx.Tx, id int64) (bool, error) {
	var locked bool
	err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(`+scheduleLockKey+`)`, id).Scan(&locked)
	return locked, err
}

// countUnfinished counts, in tx, the pending and running runs of action id.
func countUnfinished(ctx context.Context, tx pgx.Tx, id int64) (int, error) {
	var n int
	err := tx.QueryRow(ctx,
		`SELECT count(*) FROM schedule_runs WHERE action_id = $1 AND status IN ('pending', 'running')`, id).Scan(&n)
	return n, err
}

// advanceAction writes, in tx, what plan decided for action id at now:
// NextRunAt, Status, LastRunAt (unless zero), the execution count increase,
// UpdatedAt now and the next version.
func advanceAction(ctx context.Context, tx pgx.Tx, id int64, plan store.ClaimPlan, last, now time.Time) error {
	_, err := tx.Exec(ctx,
		`UPDATE scheduled_actions SET next_run_at = $2, status = $3, last_run_at = coalesce($4, last_run_at),
		     execution_count = execution_count + $5, updated_at = $6, version = version + 1
		 WHERE id = $1`, id, nullTime(plan.NextRunAt), plan.Status, nullTime(last), plan.ExecutionsDone, now)
	return err
}

// countFinish updates, in tx, the action of a run that finished with
// status at: consecutive failures reset on completed and grown on failed,
// the action paused with no next run when an active one reaches its
// pause_after_failures, its UpdatedAt at and its next version.
func countFinish(ctx context.Context, tx pgx.Tx, actionID int64, status string, at time.Time) error {
	_, err := tx.Exec(ctx,
		`UPDATE scheduled_actions SET
		     consecutive_failures = CASE WHEN $2 = 'failed' THEN consecutive_failures + 1 ELSE 0 END,
		     status = CASE WHEN `+pausesNow+` THEN 'paused' ELSE status END,
		     next_run_at = CASE WHEN `+pausesNow+` THEN NULL ELSE next_run_at END,
		     updated_at = $3, version = version + 1
		 WHERE id = $1`, actionID, status, at)
	return err
}

// pausesNow holds, in countFinish, when a run that finished with status $2
// makes its action reach pause_after_failures.
const pausesNow = `($2 = 'failed' AND status = 'active' AND pause_after_failures > 0
	AND consecutive_failures + 1 >= pause_after_failures)`

// lockActionOf locks, in tx, the action of run id before the run itself
// (the order ActionDelete locks them in), so that finishing a run and
// deleting its action cannot deadlock. A missing run is not an error here.
func lockActionOf(ctx context.Context, tx pgx.Tx, runID string) error {
	_, err := tx.Exec(ctx, `SELECT 1 FROM scheduled_actions
		 WHERE id = (SELECT action_id FROM schedule_runs WHERE id = $1) FOR NO KEY UPDATE`, runID)
	return err
}
