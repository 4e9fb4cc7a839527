package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

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

// actionMatch is the condition of an ActionFilter (?1 status, ?2 action
// type, ?3 agent id, ?4 tag), whose zero fields match everything.
const actionMatch = `(?1 = '' OR status = ?1) AND (?2 = '' OR action_type = ?2) AND (?3 = 0 OR agent_id = ?3)
	AND (?4 = '' OR EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?4))`

// actionDue matches the actions the scheduler takes when they are due:
// active and timed (not event).
const actionDue = `status = 'active' AND schedule_type <> 'event'`

// errActionChanged is why an update of an action matched no row although
// the action exists.
const errActionChanged refusal = "the action was changed meanwhile"

// scanAction reads one scheduled_actions row, converting its times to UTC,
// keeping its JSON as the stored bytes and decoding its tags.
func scanAction(row scanner) (store.ScheduledAction, error) {
	var a store.ScheduledAction
	var agent, circle, creator, runAt, start, end, next, last sql.NullInt64
	var config, tags string
	var trigger sql.NullString
	var created, updated int64
	err := row.Scan(&a.ID, &a.Name, &a.Description, &agent, &circle, &a.ActionType, &config, &a.ScheduleType,
		&a.CronExpression, &a.TimeZone, &a.IntervalSec, &runAt, &trigger, &start, &end, &a.MaxExecutions, &a.Status,
		&a.OverlapPolicy, &a.CatchupPolicy, &a.CatchupWindowSec, &a.CatchupMax, &a.MaxRetries, &a.RetryDelaySec,
		&a.PauseAfterFailures, &a.TimeoutSec, &next, &a.ConsecutiveFailures, &tags, &updated, &last,
		&a.ExecutionCount, &creator, &created, &a.Version)
	if err != nil {
		return a, err
	}
	a.AgentID, a.CircleID, a.CreatedBy = agent.Int64, circle.Int64, creator.Int64
	a.ActionConfig, a.EventTrigger = json.RawMessage(config), rawJSON(trigger)
	a.RunAt, a.StartDate, a.EndDate = fromNullMS(runAt), fromNullMS(start), fromNullMS(end)
	a.NextRunAt, a.LastRunAt, a.CreatedAt, a.UpdatedAt = fromNullMS(next), fromNullMS(last), fromMS(created), fromMS(updated)
	a.Tags, err = decodeTags(tags)
	return a, err
}

// actionArgs are the values of actionFields for a.
func actionArgs(a store.ScheduledAction) []any {
	return []any{a.Name, a.Description, nullID(a.AgentID), nullID(a.CircleID), a.ActionType, string(a.ActionConfig),
		a.ScheduleType, a.CronExpression, a.TimeZone, a.IntervalSec, nullMS(a.RunAt), nullJSON(a.EventTrigger),
		nullMS(a.StartDate), nullMS(a.EndDate), a.MaxExecutions, a.Status, a.OverlapPolicy, a.CatchupPolicy,
		a.CatchupWindowSec, a.CatchupMax, a.MaxRetries, a.RetryDelaySec, a.PauseAfterFailures, a.TimeoutSec,
		nullMS(a.NextRunAt), a.ConsecutiveFailures, listJSON(a.Tags), a.UpdatedAt.UnixMilli(), nullMS(a.LastRunAt),
		a.ExecutionCount, nullID(a.CreatedBy), a.CreatedAt.UnixMilli()}
}

// ActionCreate inserts an action at version 1 and returns it with its id.
func (s *Store) ActionCreate(ctx context.Context, a store.ScheduledAction) (store.ScheduledAction, error) {
	if err := a.Check(); err != nil {
		return store.ScheduledAction{}, err
	}
	got, err := scanAction(s.write.QueryRowContext(ctx,
		`INSERT INTO scheduled_actions (`+actionFields+`, version)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		 RETURNING `+actionColumns, actionArgs(a)...))
	return got, translate(err, "create action %q", a.Name)
}

// ActionGet returns an action or ENOTFOUND.
func (s *Store) ActionGet(ctx context.Context, id int64) (store.ScheduledAction, error) {
	a, err := scanAction(s.read.QueryRowContext(ctx, `SELECT `+actionColumns+` FROM scheduled_actions WHERE id = ?`, id))
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
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM scheduled_actions WHERE `+actionMatch,
		f.Status, f.ActionType, f.AgentID, f.Tag).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count actions")
	}
	limit, offset := p.ListBounds()
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+actionColumns+` FROM scheduled_actions WHERE `+actionMatch+` ORDER BY id LIMIT ?5 OFFSET ?6`,
		f.Status, f.ActionType, f.AgentID, f.Tag, limit, offset)
	list, err := collectActions(rows, err)
	return list, total, translate(err, "list actions")
}

// collectActions reads every row of a query of actionColumns, unless the
// query failed.
func collectActions(rows *sql.Rows, err error) ([]store.ScheduledAction, error) {
	if err != nil {
		return nil, err
	}
	return collect(rows, scanAction)
}

// ActionUpdate writes the first 28 actionFields in one conditional UPDATE
// that matches only while the stored version is still a.Version, and bumps
// the version. When it matches no row it tells a missing action
// (ENOTFOUND) from a changed one (ECONFLICT).
func (s *Store) ActionUpdate(ctx context.Context, a store.ScheduledAction) (store.ScheduledAction, error) {
	if err := a.Check(); err != nil {
		return store.ScheduledAction{}, err
	}
	got, err := scanAction(s.write.QueryRowContext(ctx,
		`UPDATE scheduled_actions SET name = ?1, description = ?2, agent_id = ?3, circle_id = ?4, action_type = ?5,
		     action_config = ?6, schedule_type = ?7, cron_expression = ?8, time_zone = ?9, interval_sec = ?10,
		     run_at = ?11, event_trigger = ?12, start_date = ?13, end_date = ?14, max_executions = ?15, status = ?16,
		     overlap_policy = ?17, catchup_policy = ?18, catchup_window_sec = ?19, catchup_max = ?20,
		     max_retries = ?21, retry_delay_sec = ?22, pause_after_failures = ?23, timeout_sec = ?24,
		     next_run_at = ?25, consecutive_failures = ?26, tags = ?27, updated_at = ?28, version = version + 1
		 WHERE id = ?29 AND version = ?30 RETURNING `+actionColumns,
		append(actionArgs(a)[:28], a.ID, a.Version)...))
	if errors.Is(err, sql.ErrNoRows) {
		err = s.missingOr(ctx, errActionChanged, `SELECT EXISTS (SELECT 1 FROM scheduled_actions WHERE id = ?)`, a.ID)
	}
	return got, runError(err, "update action %d at version %d", a.ID, a.Version)
}

// ActionDelete deletes an action, and its runs with it (ON DELETE
// CASCADE); ENOTFOUND.
func (s *Store) ActionDelete(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM scheduled_actions WHERE id = ?`, id)
	return affectedOne(res, err, "delete action %d", id)
}

// ActionNextDue returns the earlier of the first NextRunAt of the due
// actions and the first NotBefore (or ScheduledFor) of the pending runs,
// each read from its index.
func (s *Store) ActionNextDue(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	err := s.read.QueryRowContext(ctx,
		`SELECT min(t) FROM (SELECT min(next_run_at) AS t FROM scheduled_actions WHERE `+actionDue+`
		                     UNION ALL
		                     SELECT min(coalesce(not_before, scheduled_for)) FROM schedule_runs WHERE status = 'pending')`,
	).Scan(&next)
	if err == nil && !next.Valid {
		err = sql.ErrNoRows
	}
	return fromNullMS(next), translate(err, "find when the next action is due")
}

// ActionsByEvent returns the active event actions by id.
func (s *Store) ActionsByEvent(ctx context.Context) ([]store.ScheduledAction, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+actionColumns+` FROM scheduled_actions
		 WHERE status = 'active' AND schedule_type = 'event' ORDER BY id`)
	list, err := collectActions(rows, err)
	return list, translate(err, "list event actions")
}

// nextDueAction reads, in tx, the oldest due action at now that is not in
// seen; sql.ErrNoRows when there is none. The one writer keeps it from
// changing until tx ends.
func nextDueAction(ctx context.Context, tx *sql.Tx, now time.Time, seen []int64) (store.ScheduledAction, error) {
	if seen == nil {
		seen = []int64{} // [], not null, which no id would be outside of
	}
	return scanAction(tx.QueryRowContext(ctx,
		`SELECT `+actionColumns+` FROM scheduled_actions
		 WHERE `+actionDue+` AND next_run_at <= ?1 AND id NOT IN (SELECT value FROM json_each(?2))
		 ORDER BY next_run_at, id LIMIT 1`, now.UnixMilli(), jsonIDs(seen)))
}

// countUnfinished counts, in tx, the pending and running runs of action id.
func countUnfinished(ctx context.Context, tx *sql.Tx, id int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx,
		`SELECT count(*) FROM schedule_runs WHERE action_id = ? AND status IN ('pending', 'running')`, id).Scan(&n)
	return n, err
}

// advanceAction writes, in tx, what plan decided for action id at now:
// NextRunAt, Status, LastRunAt (unless zero), the execution count increase,
// UpdatedAt now and the next version.
func advanceAction(ctx context.Context, tx *sql.Tx, id int64, plan store.ClaimPlan, last, now time.Time) error {
	_, err := tx.ExecContext(ctx,
		`UPDATE scheduled_actions SET next_run_at = ?2, status = ?3, last_run_at = coalesce(?4, last_run_at),
		     execution_count = execution_count + ?5, updated_at = ?6, version = version + 1
		 WHERE id = ?1`, id, nullMS(plan.NextRunAt), plan.Status, nullMS(last), plan.ExecutionsDone, now.UnixMilli())
	return err
}

// countFinish updates, in tx, the action of a run that finished with
// status at: consecutive failures reset on completed and grown on failed,
// the action paused with no next run when an active one reaches its
// pause_after_failures, its UpdatedAt at and its next version.
func countFinish(ctx context.Context, tx *sql.Tx, actionID int64, status string, at time.Time) error {
	_, err := tx.ExecContext(ctx,
		`UPDATE scheduled_actions SET
		     consecutive_failures = CASE WHEN ?2 = 'failed' THEN consecutive_failures + 1 ELSE 0 END,
		     status = CASE WHEN `+pausesNow+` THEN 'paused' ELSE status END,
		     next_run_at = CASE WHEN `+pausesNow+` THEN NULL ELSE next_run_at END,
		     updated_at = ?3, version = version + 1
		 WHERE id = ?1`, actionID, status, at.UnixMilli())
	return err
}

// pausesNow holds, in countFinish, when a run that finished with status ?2
// makes its action reach pause_after_failures.
const pausesNow = `(?2 = 'failed' AND status = 'active' AND pause_after_failures > 0
	AND consecutive_failures + 1 >= pause_after_failures)`
