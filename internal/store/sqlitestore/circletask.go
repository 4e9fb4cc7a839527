package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// circleTaskColumns are the columns scanCircleTask reads, in order.
const circleTaskColumns = `id, circle_id, title, description, required_competencies, priority, status,
	assigned_agent_id, reviewer_id, result, files_modified, feedback, background_task_id, created_by, created_at,
	updated_at, started_at, completed_at`

// circleTaskMatch is the condition of a CircleTaskFilter (?1 circle, ?2
// status, ?3 active, ?4 assignee, ?5 project, ?6 background task, ?7 after
// id), whose zero fields match everything.
const circleTaskMatch = `(?1 = 0 OR circle_id = ?1) AND (?2 = '' OR status = ?2)
	AND (NOT ?3 OR status IN ('assigned', 'in_progress', 'in_review'))
	AND (?4 = 0 OR assigned_agent_id = ?4)
	AND (?5 = 0 OR circle_id IN (SELECT id FROM circles WHERE project_id = ?5))
	AND (?6 = '' OR background_task_id = ?6) AND id > ?7`

// scanCircleTask reads one circle_tasks row, converting its times to UTC
// and decoding its lists.
func scanCircleTask(row scanner) (store.CircleTask, error) {
	var t store.CircleTask
	var required, files string
	var assignee, reviewer, creator, started, completed sql.NullInt64
	var background sql.NullString
	var created, updated int64
	err := row.Scan(&t.ID, &t.CircleID, &t.Title, &t.Description, &required, &t.Priority, &t.Status, &assignee,
		&reviewer, &t.Result, &files, &t.Feedback, &background, &creator, &created, &updated, &started, &completed)
	if err != nil {
		return t, err
	}
	t.AssignedAgentID, t.ReviewerID, t.CreatedBy, t.BackgroundTaskID = assignee.Int64, reviewer.Int64, creator.Int64, background.String
	t.CreatedAt, t.UpdatedAt, t.StartedAt, t.CompletedAt = fromMS(created), fromMS(updated), fromNullMS(started), fromNullMS(completed)
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
	got, err := scanCircleTask(s.write.QueryRowContext(ctx,
		`INSERT INTO circle_tasks (circle_id, title, description, required_competencies, priority, status, result,
		     files_modified, feedback, created_by, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, 'pending', '', '[]', '', ?, ?, ?) RETURNING `+circleTaskColumns,
		t.CircleID, t.Title, t.Description, listJSON(t.RequiredCompetencies), t.Priority, nullID(t.CreatedBy),
		t.CreatedAt.UnixMilli(), t.UpdatedAt.UnixMilli()))
	return got, refError(err, gathering.ENOTFOUND, "circle not found", "create task %q in circle %d", t.Title, t.CircleID)
}

// CircleTaskGet returns a task or ENOTFOUND.
func (s *Store) CircleTaskGet(ctx context.Context, id int64) (store.CircleTask, error) {
	t, err := scanCircleTask(s.read.QueryRowContext(ctx, `SELECT `+circleTaskColumns+` FROM circle_tasks WHERE id = ?`, id))
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
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM circle_tasks WHERE `+circleTaskMatch, args...).Scan(&total); err != nil {
		return nil, 0, translate(err, "count circle tasks")
	}
	limit, offset := pg.ListBounds()
	rows, err := s.read.QueryContext(ctx, `SELECT `+circleTaskColumns+` FROM circle_tasks WHERE `+circleTaskMatch+`
		 ORDER BY id LIMIT ?8 OFFSET ?9`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, translate(err, "list circle tasks")
	}
	list, err := collect(rows, scanCircleTask)
	return list, total, translate(err, "list circle tasks")
}

// CircleTaskPending returns a circle's pending tasks in routing order.
func (s *Store) CircleTaskPending(ctx context.Context, circleID int64, limit int) ([]store.CircleTask, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+circleTaskColumns+` FROM circle_tasks
		 WHERE circle_id = ? AND status = 'pending' ORDER BY priority DESC, id LIMIT ?`, circleID, limit)
	if err != nil {
		return nil, translate(err, "list pending tasks of circle %d", circleID)
	}
	list, err := collect(rows, scanCircleTask)
	return list, translate(err, "list pending tasks of circle %d", circleID)
}

// CircleTaskChange writes a task's new state in one write transaction that
// counts the active tasks when the change activates a pending one,
// updates the task only while it still has the status and background task
// the caller read, and records the review.
func (s *Store) CircleTaskChange(ctx context.Context, c store.CircleTaskChange) (store.CircleTask, error) {
	if err := c.Task.Check(); err != nil {
		return store.CircleTask{}, err
	}
	got, err := s.changeCircleTask(ctx, c)
	return got, runError(err, "change circle task %d from %s", c.Task.ID, c.From)
}

// changeCircleTask is CircleTaskChange with its errors untranslated.
func (s *Store) changeCircleTask(ctx context.Context, c store.CircleTaskChange) (store.CircleTask, error) {
	t := c.Task
	tx, err := s.write.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the one writer
	if err != nil {
		return store.CircleTask{}, err
	}
	defer tx.Rollback()
	if err := checkCircleRoom(ctx, tx, c); err != nil {
		return store.CircleTask{}, err
	}
	got, err := scanCircleTask(tx.QueryRowContext(ctx,
		`UPDATE circle_tasks SET status = ?4, assigned_agent_id = ?5, reviewer_id = ?6, result = ?7,
		     files_modified = ?8, feedback = ?9, background_task_id = ?10, updated_at = ?11, started_at = ?12,
		     completed_at = ?13
		 WHERE id = ?1 AND status = ?2 AND background_task_id IS ?3 RETURNING `+circleTaskColumns,
		t.ID, c.From, nullText(c.FromBackgroundTask), t.Status, nullID(t.AssignedAgentID), nullID(t.ReviewerID),
		t.Result, listJSON(t.FilesModified), t.Feedback, nullText(t.BackgroundTaskID), t.UpdatedAt.UnixMilli(),
		nullMS(t.StartedAt), nullMS(t.CompletedAt)))
	if errors.Is(err, sql.ErrNoRows) {
		return got, errCircleTaskChanged
	}
	if err != nil {
		return got, err
	}
	if r := c.Review; r != nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO circle_task_reviews (task_id, circle_id, assignee_id, reviewer_id, approved,
			     comment, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			got.ID, got.CircleID, r.AssigneeID, r.ReviewerID, r.Approved, r.Comment, r.At.UnixMilli())
		if err != nil {
			return got, err
		}
	}
	return got, tx.Commit()
}

// checkCircleRoom refuses (errCircleFull) a change that makes a pending task
// active while its circle has its most active tasks; sql.ErrNoRows when
// the task does not exist.
func checkCircleRoom(ctx context.Context, tx *sql.Tx, c store.CircleTaskChange) error {
	var circleID int64
	if err := tx.QueryRowContext(ctx, `SELECT circle_id FROM circle_tasks WHERE id = ?`, c.Task.ID).Scan(&circleID); err != nil {
		return err
	}
	if c.From.Active() || !c.Task.Status.Active() {
		return nil
	}
	most, err := circleMaxTasks(ctx, tx, circleID)
	if err != nil {
		return err
	}
	var active int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM circle_tasks WHERE circle_id = ?
		 AND status IN ('assigned', 'in_progress', 'in_review')`, circleID).Scan(&active)
	if err == nil && active >= most {
		return errCircleFull
	}
	return err
}

// CircleTaskReviews returns a task's reviews, oldest first.
func (s *Store) CircleTaskReviews(ctx context.Context, taskID int64) ([]store.CircleReview, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, task_id, circle_id, assignee_id, reviewer_id, approved, comment, at
		 FROM circle_task_reviews WHERE task_id = ? ORDER BY id`, taskID)
	if err != nil {
		return nil, translate(err, "list reviews of circle task %d", taskID)
	}
	list, err := collect(rows, func(row scanner) (store.CircleReview, error) {
		var r store.CircleReview
		var at int64
		err := row.Scan(&r.ID, &r.TaskID, &r.CircleID, &r.AssigneeID, &r.ReviewerID, &r.Approved, &r.Comment, &at)
		r.At = fromMS(at)
		return r, err
	})
	return list, translate(err, "list reviews of circle task %d", taskID)
}

// circleConflictColumns are the columns scanCircleConflict reads, in order.
const circleConflictColumns = `id, circle_id, path, agent_a, task_a, agent_b, task_b, detected_at, resolved_at, resolution`

// scanCircleConflict reads one circle_conflicts row, converting its times to
// UTC.
func scanCircleConflict(row scanner) (store.CircleConflict, error) {
	var c store.CircleConflict
	var detected int64
	var resolved sql.NullInt64
	err := row.Scan(&c.ID, &c.CircleID, &c.Path, &c.AgentA, &c.TaskA, &c.AgentB, &c.TaskB, &detected, &resolved, &c.Resolution)
	c.DetectedAt, c.ResolvedAt = fromMS(detected), fromNullMS(resolved)
	return c, err
}

// openCircleConflicts inserts a conflict for each of the paths (?4, a JSON
// array) that another member touched for another active task of the
// circle (?1) than the task (?2) of the agent (?3), at ?5, one per path and
// other member (its oldest such task), unless one is open already.
const openCircleConflicts = `INSERT INTO circle_conflicts (circle_id, path, agent_a, task_a, agent_b, task_b, detected_at,
	    resolution)
	SELECT ?1, o.path, min(?3, o.agent_id), CASE WHEN ?3 < o.agent_id THEN ?2 ELSE o.task_id END,
	    max(?3, o.agent_id), CASE WHEN ?3 < o.agent_id THEN o.task_id ELSE ?2 END, ?5, ''
	FROM (SELECT f.path, t.assigned_agent_id AS agent_id, min(t.id) AS task_id
	    FROM circle_task_files f JOIN circle_tasks t ON t.id = f.task_id
	    WHERE t.circle_id = ?1 AND t.id <> ?2 AND t.assigned_agent_id <> ?3
	        AND f.path IN (SELECT value FROM json_each(?4))
	        AND t.status IN ('assigned', 'in_progress', 'in_review')
	    GROUP BY f.path, t.assigned_agent_id) o
	WHERE true
	ON CONFLICT (circle_id, path, agent_a, agent_b) WHERE resolved_at IS NULL DO NOTHING
	RETURNING ` + circleConflictColumns

// CircleTouch records the paths a task's assignee touched and opens the
// conflicts they make, in one write transaction.
func (s *Store) CircleTouch(ctx context.Context, taskID int64, paths []string, at time.Time) ([]store.CircleConflict, error) {
	opened, err := s.touchCircleTask(ctx, taskID, paths, at)
	slices.SortFunc(opened, func(a, b store.CircleConflict) int { return int(a.ID - b.ID) })
	return opened, translate(err, "record the files of circle task %d", taskID)
}

// touchCircleTask is CircleTouch with its errors untranslated.
func (s *Store) touchCircleTask(ctx context.Context, taskID int64, paths []string, at time.Time) ([]store.CircleConflict, error) {
	tx, err := s.write.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the one writer
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	t, err := scanCircleTask(tx.QueryRowContext(ctx, `SELECT `+circleTaskColumns+` FROM circle_tasks WHERE id = ?`, taskID))
	if err != nil || !t.Status.Active() || len(paths) == 0 {
		return nil, err
	}
	list := listJSON(paths)
	_, err = tx.ExecContext(ctx, `INSERT INTO circle_task_files (task_id, path, at)
		 SELECT ?1, value, ?3 FROM json_each(?2) WHERE true ON CONFLICT DO NOTHING`, taskID, list, at.UnixMilli())
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, openCircleConflicts, t.CircleID, taskID, t.AssignedAgentID, list, at.UnixMilli())
	if err != nil {
		return nil, err
	}
	opened, err := collect(rows, scanCircleConflict)
	if err != nil {
		return nil, err
	}
	return opened, tx.Commit()
}

// CircleConflictList returns a page of a circle's conflicts, by id, and
// the total.
func (s *Store) CircleConflictList(ctx context.Context, circleID int64, open *bool, pg store.Page) ([]store.CircleConflict, int, error) {
	const match = `circle_id = ?1 AND (?2 IS NULL OR (resolved_at IS NULL) = ?2)`
	var total int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM circle_conflicts WHERE `+match, circleID, open).Scan(&total); err != nil {
		return nil, 0, translate(err, "count conflicts of circle %d", circleID)
	}
	limit, offset := pg.ListBounds()
	rows, err := s.read.QueryContext(ctx, `SELECT `+circleConflictColumns+` FROM circle_conflicts WHERE `+match+`
		 ORDER BY id LIMIT ?3 OFFSET ?4`, circleID, open, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list conflicts of circle %d", circleID)
	}
	list, err := collect(rows, scanCircleConflict)
	return list, total, translate(err, "list conflicts of circle %d", circleID)
}

// CircleConflictResolve resolves an open conflict in one conditional
// UPDATE.
func (s *Store) CircleConflictResolve(ctx context.Context, circleID, id int64, resolution string, at time.Time) (store.CircleConflict, error) {
	c, err := scanCircleConflict(s.write.QueryRowContext(ctx, `UPDATE circle_conflicts SET resolved_at = ?3, resolution = ?4
		 WHERE circle_id = ?1 AND id = ?2 AND resolved_at IS NULL RETURNING `+circleConflictColumns,
		circleID, id, at.UnixMilli(), resolution))
	if errors.Is(err, sql.ErrNoRows) {
		err = s.missingOr(ctx, errCircleConflictClosed,
			`SELECT EXISTS (SELECT 1 FROM circle_conflicts WHERE circle_id = ? AND id = ?)`, circleID, id)
	}
	return c, runError(err, "resolve conflict %d of circle %d", id, circleID)
}

// circleMetricsQuery sums, for each member of a circle (?1), its tasks,
// the reviews of its work and its provider calls since it joined.
const circleMetricsQuery = `WITH tasks AS (
	    SELECT assigned_agent_id AS agent_id, sum(status = 'completed') AS completed, sum(status = 'failed') AS failed,
	        sum(status IN ('assigned', 'in_progress', 'in_review')) AS workload
	    FROM circle_tasks WHERE circle_id = ?1 AND assigned_agent_id IS NOT NULL GROUP BY assigned_agent_id),
	reviews AS (
	    SELECT assignee_id AS agent_id, count(*) AS reviews, sum(approved) AS approvals
	    FROM circle_task_reviews WHERE circle_id = ?1 GROUP BY assignee_id),
	usage AS (
	    SELECT m.agent_id, sum(u.input_tokens) AS input, sum(u.output_tokens) AS output, sum(u.cost) AS cost
	    FROM circle_members m JOIN usage_records u ON u.agent_id = m.agent_id AND u.at >= m.joined_at
	    WHERE m.circle_id = ?1 GROUP BY m.agent_id)
	SELECT m.agent_id, a.name, m.joined_at, coalesce(t.completed, 0), coalesce(t.failed, 0), coalesce(t.workload, 0),
	    coalesce(r.reviews, 0), coalesce(r.approvals, 0), coalesce(u.input, 0), coalesce(u.output, 0),
	    coalesce(u.cost, 0.0)
	FROM circle_members m JOIN agents a ON a.id = m.agent_id
	LEFT JOIN tasks t ON t.agent_id = m.agent_id
	LEFT JOIN reviews r ON r.agent_id = m.agent_id
	LEFT JOIN usage u ON u.agent_id = m.agent_id
	WHERE m.circle_id = ?1 ORDER BY m.agent_id`

// CircleMetrics returns each member's figures in one query.
func (s *Store) CircleMetrics(ctx context.Context, circleID int64) ([]store.CircleMemberMetrics, error) {
	rows, err := s.read.QueryContext(ctx, circleMetricsQuery, circleID)
	if err != nil {
		return nil, translate(err, "sum the metrics of circle %d", circleID)
	}
	list, err := collect(rows, func(row scanner) (store.CircleMemberMetrics, error) {
		var m store.CircleMemberMetrics
		var joined int64
		err := row.Scan(&m.AgentID, &m.AgentName, &joined, &m.Completed, &m.Failed, &m.Workload, &m.Reviews,
			&m.Approvals, &m.InputTokens, &m.OutputTokens, &m.Cost)
		m.JoinedAt = fromMS(joined)
		return m, err
	})
	return list, translate(err, "sum the metrics of circle %d", circleID)
}
