package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// circleTaskColumns are the columns scanCircleTask reads, in order.
const circleTaskColumns = `id, circle_id, title, description, required_competencies, priority, status,
	assigned_agent_id, reviewer_id, result, files_modified, feedback, background_task_id, created_by, created_at,
	updated_at, started_at, completed_at`

// circleTaskMatch is the condition of a CircleTaskFilter ($1 circle, $2
// status, $3 active, $4 assignee, $5 project, $6 background task, $7 after
// id), whose zero fields match everything.
const circleTaskMatch = `($1::bigint = 0 OR circle_id = $1) AND ($2 = '' OR status = $2)
	AND (NOT $3::boolean OR status IN ('assigned', 'in_progress', 'in_review'))
	AND ($4::bigint = 0 OR assigned_agent_id = $4)
	AND ($5::bigint = 0 OR circle_id IN (SELECT id FROM circles WHERE project_id = $5))
	AND ($6 = '' OR background_task_id = $6) AND id > $7`

// scanCircleTask reads one circle_tasks row, with its times in UTC and its
// lists decoded.
func scanCircleTask(row pgx.Row) (store.CircleTask, error) {
	var t store.CircleTask
	var required, files string
	var assignee, reviewer, creator *int64
	var background *string
	var created, updated time.Time
	var started, completed *time.Time
	err := row.Scan(&t.ID, &t.CircleID, &t.Title, &t.Description, &required, &t.Priority, &t.Status, &assignee,
		&reviewer, &t.Result, &files, &t.Feedback, &background, &creator, &created, &updated, &started, &completed)
	if err != nil {
		return t, err
	}
	t.AssignedAgentID, t.ReviewerID, t.CreatedBy = idOf(assignee), idOf(reviewer), idOf(creator)
	if background != nil {
		t.BackgroundTaskID = *background
	}
	t.CreatedAt, t.UpdatedAt, t.StartedAt, t.CompletedAt = created.UTC(), updated.UTC(), utc(started), utc(completed)
	if t.RequiredCompetencies, err = parseList(required); err != nil {
		return t, err
	}
	t.FilesModified, err = parseList(files)
	return t, err
}

// CircleTaskCreate inserts a pending task and returns it with its id.
func (s *Store) CircleTaskCreate(ctx context.Context, t store.CircleTask) (store.CircleTask, error) {
	t.Status, t.AssignedAgentID = store.TaskPending, 0
	if err := t.Check(); err != nil {
		return store.CircleTask{}, err
	}
	got, err := scanCircleTask(s.pool.QueryRow(ctx,
		`INSERT INTO circle_tasks (circle_id, title, description, required_competencies, priority, status, result,
		     files_modified, feedback, created_by, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, 'pending', '', '[]', '', $6, $7, $8) RETURNING `+circleTaskColumns,
		t.CircleID, t.Title, t.Description, listJSON(t.RequiredCompetencies), t.Priority, nullID(t.CreatedBy),
		t.CreatedAt, t.UpdatedAt))
	return got, refError(err, gathering.ENOTFOUND, "circle not found", "create task %q in circle %d", t.Title, t.CircleID)
}

// CircleTaskGet returns a task or ENOTFOUND.
func (s *Store) CircleTaskGet(ctx context.Context, id int64) (store.CircleTask, error) {
	t, err := scanCircleTask(s.pool.QueryRow(ctx, `SELECT `+circleTaskColumns+` FROM circle_tasks WHERE id = $1`, id))
	return t, translate(err, "get circle task %d", id)
}

// CircleTaskList returns a page of the tasks that match, by id, and the
// total.
func (s *Store) CircleTaskList(ctx context.Context, f store.CircleTaskFilter, pg store.Page) ([]store.CircleTask, int, error) {
	if err := f.Check(); err != nil {
		return nil, 0, err
	}
	args := []any{f.CircleID, f.Status, f.Active, f.AgentID, f.ProjectID, f.BackgroundTaskID, f.AfterID}
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM circle_tasks WHERE `+circleTaskMatch, args...).Scan(&total); err != nil {
		return nil, 0, translate(err, "count circle tasks")
	}
	limit, offset := pg.ListBounds()
	rows, err := s.pool.Query(ctx, `SELECT `+circleTaskColumns+` FROM circle_tasks WHERE `+circleTaskMatch+`
		 ORDER BY id LIMIT $8 OFFSET $9`, append(args, limit, offset)...)
	return collectCircleTasks(rows, err, total, "list circle tasks")
}

// collectCircleTasks reads the tasks a query returned, unless it failed.
func collectCircleTasks(rows pgx.Rows, err error, total int, what string) ([]store.CircleTask, int, error) {
	if err != nil {
		return nil, 0, translate(err, "%s", what)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.CircleTask, error) { return scanCircleTask(row) })
	return list, total, translate(err, "%s", what)
}

// CircleTaskPending returns a circle's pending tasks in routing order.
func (s *Store) CircleTaskPending(ctx context.Context, circleID int64, limit int) ([]store.CircleTask, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+circleTaskColumns+` FROM circle_tasks
		 WHERE circle_id = $1 AND status = 'pending' ORDER BY priority DESC, id LIMIT $2`, circleID, limit)
	list, _, err := collectCircleTasks(rows, err, 0, fmt.Sprintf("list pending tasks of circle %d", circleID))
	return list, err
}

// CircleTaskChange writes a task's new state in one transaction that
// locks its circle, counts the active tasks when the change activates a
// pending one, updates the task only while it still has the status and
// background task the caller read, and records the review.
func (s *Store) CircleTaskChange(ctx context.Context, c store.CircleTaskChange) (store.CircleTask, error) {
	t := c.Task
	if err := t.Check(); err != nil {
		return store.CircleTask{}, err
	}
	var got store.CircleTask
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := checkCircleRoom(ctx, tx, c); err != nil {
			return err
		}
		var err error
		got, err = scanCircleTask(tx.QueryRow(ctx,
			`UPDATE circle_tasks SET status = $4, assigned_agent_id = $5, reviewer_id = $6, result = $7,
			     files_modified = $8, feedback = $9, background_task_id = $10, updated_at = $11, started_at = $12,
			     completed_at = $13
			 WHERE id = $1 AND status = $2 AND background_task_id IS NOT DISTINCT FROM $3 RETURNING `+circleTaskColumns,
			t.ID, c.From, nullText(c.FromBackgroundTask), t.Status, nullID(t.AssignedAgentID), nullID(t.ReviewerID),
			t.Result, listJSON(t.FilesModified), t.Feedback, nullText(t.BackgroundTaskID), t.UpdatedAt,
			nullTime(t.StartedAt), nullTime(t.CompletedAt)))
		if errors.Is(err, pgx.ErrNoRows) {
			return errCircleTaskChanged
		}
		if err != nil || c.Review == nil {
			return err
		}
		r := c.Review
		_, err = tx.Exec(ctx, `INSERT INTO circle_task_reviews (task_id, circle_id, assignee_id, reviewer_id, approved, comment, at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7)`, got.ID, got.CircleID, r.AssigneeID, r.ReviewerID, r.Approved, r.Comment, r.At)
		return err
	})
	return got, runError(err, "change circle task %d from %s", t.ID, c.From)
}

// checkCircleRoom locks the circle of the task c changes and, when the change
// makes a pending task active, refuses it (errCircleFull) while the
// circle has its most active tasks; pgx.ErrNoRows when the task does not
// exist.
func checkCircleRoom(ctx context.Context, tx pgx.Tx, c store.CircleTaskChange) error {
	var circleID int64
	if err := tx.QueryRow(ctx, `SELECT circle_id FROM circle_tasks WHERE id = $1`, c.Task.ID).Scan(&circleID); err != nil {
		return err
	}
	most, err := lockCircle(ctx, tx, circleID)
	if err != nil || c.From.Active() || !c.Task.Status.Active() {
		return err
	}
	var active int
	err = tx.QueryRow(ctx, `SELECT count(*) FROM circle_tasks WHERE circle_id = $1
		 AND status IN ('assigned', 'in_progress', 'in_review')`, circleID).Scan(&active)
	if err == nil && active >= most {
		return errCircleFull
	}
	return err
}

// CircleTaskReviews returns a task's reviews, oldest first.
func (s *Store) CircleTaskReviews(ctx context.Context, taskID int64) ([]store.CircleReview, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, task_id, circle_id, assignee_id, reviewer_id, approved, comment, at
		 FROM circle_task_reviews WHERE task_id = $1 ORDER BY id`, taskID)
	if err != nil {
		return nil, translate(err, "list reviews of circle task %d", taskID)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.CircleReview, error) {
		var r store.CircleReview
		var at time.Time
		err := row.Scan(&r.ID, &r.TaskID, &r.CircleID, &r.AssigneeID, &r.ReviewerID, &r.Approved, &r.Comment, &at)
		r.At = at.UTC()
		return r, err
	})
	return list, translate(err, "list reviews of circle task %d", taskID)
}

// circleConflictColumns are the columns scanCircleConflict reads, in order.
const circleConflictColumns = `id, circle_id, path, agent_a, task_a, agent_b, task_b, detected_at, resolved_at, resolution`

// scanCircleConflict reads one circle_conflicts row, with its times in UTC.
func scanCircleConflict(row pgx.Row) (store.CircleConflict, error) {
	var c store.CircleConflict
	var detected time.Time
	var resolved *time.Time
	err := row.Scan(&c.ID, &c.CircleID, &c.Path, &c.AgentA, &c.TaskA, &c.AgentB, &c.TaskB, &detected, &resolved, &c.Resolution)
	c.DetectedAt, c.ResolvedAt = detected.UTC(), utc(resolved)
	return c, err
}

// openCircleConflicts inserts a conflict for each of the paths ($4) that
// another member touched for another active task of the circle ($1) than
// the task ($2) of the agent ($3), at $5, one per path and other member
// (its oldest such task), unless one is open already.
const openCircleConflicts = `INSERT INTO circle_conflicts (circle_id, path, agent_a, task_a, agent_b, task_b, detected_at,
	    resolution)
	SELECT $1, o.path, least($3::bigint, o.agent_id), CASE WHEN $3 < o.agent_id THEN $2 ELSE o.task_id END,
	    greatest($3::bigint, o.agent_id), CASE WHEN $3 < o.agent_id THEN o.task_id ELSE $2 END, $5, ''
	FROM (SELECT f.path, t.assigned_agent_id AS agent_id, min(t.id) AS task_id
	    FROM circle_task_files f JOIN circle_tasks t ON t.id = f.task_id
	    WHERE t.circle_id = $1 AND t.id <> $2 AND t.assigned_agent_id <> $3 AND f.path = ANY($4::text[])
	        AND t.status IN ('assigned', 'in_progress', 'in_review')
	    GROUP BY f.path, t.assigned_agent_id) o
	ON CONFLICT (circle_id, path, agent_a, agent_b) WHERE resolved_at IS NULL DO NOTHING
	RETURNING ` + circleConflictColumns

// CircleTouch records the paths a task's assignee touched and opens the
// conflicts they make, in one transaction that locks the circle first, so
// that the task's status cannot change until it ends.
func (s *Store) CircleTouch(ctx context.Context, taskID int64, paths []string, at time.Time) ([]store.CircleConflict, error) {
	var opened []store.CircleConflict
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var circleID int64
		if err := tx.QueryRow(ctx, `SELECT circle_id FROM circle_tasks WHERE id = $1`, taskID).Scan(&circleID); err != nil {
			return err
		}
		if _, err := lockCircle(ctx, tx, circleID); err != nil {
			return err
		}
		t, err := scanCircleTask(tx.QueryRow(ctx, `SELECT `+circleTaskColumns+` FROM circle_tasks WHERE id = $1`, taskID))
		if err != nil || !t.Status.Active() || len(paths) == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO circle_task_files (task_id, path, at) SELECT $1, p, $3 FROM unnest($2::text[]) AS p
			 ON CONFLICT DO NOTHING`, taskID, paths, at)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, openCircleConflicts, t.CircleID, taskID, t.AssignedAgentID, paths, at)
		if err != nil {
			return err
		}
		opened, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.CircleConflict, error) { return scanCircleConflict(row) })
		return err
	})
	slices.SortFunc(opened, func(a, b store.CircleConflict) int { return int(a.ID - b.ID) })
	return opened, translate(err, "record the files of circle task %d", taskID)
}

// CircleConflictList returns a page of a circle's conflicts, by id, and
// the total.
func (s *Store) CircleConflictList(ctx context.Context, circleID int64, open *bool, pg store.Page) ([]store.CircleConflict, int, error) {
	const match = `circle_id = $1 AND ($2::boolean IS NULL OR (resolved_at IS NULL) = $2)`
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM circle_conflicts WHERE `+match, circleID, open).Scan(&total); err != nil {
		return nil, 0, translate(err, "count conflicts of circle %d", circleID)
	}
	limit, offset := pg.ListBounds()
	rows, err := s.pool.Query(ctx, `SELECT `+circleConflictColumns+` FROM circle_conflicts WHERE `+match+`
		 ORDER BY id LIMIT $3 OFFSET $4`, circleID, open, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list conflicts of circle %d", circleID)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.CircleConflict, error) { return scanCircleConflict(row) })
	return list, total, translate(err, "list conflicts of circle %d", circleID)
}

// CircleConflictResolve resolves an open conflict in one conditional
// UPDATE.
func (s *Store) CircleConflictResolve(ctx context.Context, circleID, id int64, resolution string, at time.Time) (store.CircleConflict, error) {
	c, err := scanCircleConflict(s.pool.QueryRow(ctx, `UPDATE circle_conflicts SET resolved_at = $3, resolution = $4
		 WHERE circle_id = $1 AND id = $2 AND resolved_at IS NULL RETURNING `+circleConflictColumns, circleID, id, at, resolution))
	if errors.Is(err, pgx.ErrNoRows) {
		err = s.missingOr(ctx, errCircleConflictClosed,
			`SELECT EXISTS (SELECT 1 FROM circle_conflicts WHERE circle_id = $1 AND id = $2)`, circleID, id)
	}
	return c, runError(err, "resolve conflict %d of circle %d", id, circleID)
}

// circleMetricsQuery sums, for each member of a circle ($1), its tasks,
// the reviews of its work and its provider calls since it joined.
const circleMetricsQuery = `WITH tasks AS (
	    SELECT assigned_agent_id AS agent_id, count(*) FILTER (WHERE status = 'completed') AS completed,
	        count(*) FILTER (WHERE status = 'failed') AS failed,
	        count(*) FILTER (WHERE status IN ('assigned', 'in_progress', 'in_review')) AS workload
	    FROM circle_tasks WHERE circle_id = $1 AND assigned_agent_id IS NOT NULL GROUP BY assigned_agent_id),
	reviews AS (
	    SELECT assignee_id AS agent_id, count(*) AS reviews, count(*) FILTER (WHERE approved) AS approvals
	    FROM circle_task_reviews WHERE circle_id = $1 GROUP BY assignee_id),
	usage AS (
	    SELECT m.agent_id, sum(u.input_tokens) AS input, sum(u.output_tokens) AS output, sum(u.cost) AS cost
	    FROM circle_members m JOIN usage_records u ON u.agent_id = m.agent_id AND u.at >= m.joined_at
	    WHERE m.circle_id = $1 GROUP BY m.agent_id)
	SELECT m.agent_id, a.name, m.joined_at, coalesce(t.completed, 0), coalesce(t.failed, 0), coalesce(t.workload, 0),
	    coalesce(r.reviews, 0), coalesce(r.approvals, 0), coalesce(u.input, 0), coalesce(u.output, 0),
	    coalesce(u.cost, 0)
	FROM circle_members m JOIN agents a ON a.id = m.agent_id
	LEFT JOIN tasks t ON t.agent_id = m.agent_id
	LEFT JOIN reviews r ON r.agent_id = m.agent_id
	LEFT JOIN usage u ON u.agent_id = m.agent_id
	WHERE m.circle_id = $1 ORDER BY m.agent_id`

// CircleMetrics returns each member's figures in one query.
func (s *Store) CircleMetrics(ctx context.Context, circleID int64) ([]store.CircleMemberMetrics, error) {
	rows, err := s.pool.Query(ctx, circleMetricsQuery, circleID)
	if err != nil {
		return nil, translate(err, "sum the metrics of circle %d", circleID)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.CircleMemberMetrics, error) {
		var m store.CircleMemberMetrics
		var joined time.Time
		err := row.Scan(&m.AgentID, &m.AgentName, &joined, &m.Completed, &m.Failed, &m.Workload, &m.Reviews,
			&m.Approvals, &m.InputTokens, &m.OutputTokens, &m.Cost)
		m.JoinedAt = joined.UTC()
		return m, err
	})
	return list, translate(err, "sum the metrics of circle %d", circleID)
}
