package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// circleColumns are the columns scanCircle reads, in order.
const circleColumns = `id, name, description, require_review, auto_route, max_concurrent_tasks, project_id, status,
	created_by, created_at, updated_at, started_at`

// circleMatch is the condition of a CircleFilter ($1 status, $2 project),
// whose zero fields match everything.
const circleMatch = `($1 = '' OR status = $1) AND ($2::bigint = 0 OR project_id = $2)`

// The refusals of the circle store.
const (
	errCircleStatus         refusal = "the circle is not in the expected status"
	errCircleFull           refusal = "the circle has its most active tasks already"
	errCircleCrowded        refusal = "the circle has its most members already"
	errCircleTaskChanged    refusal = "the task changed meanwhile"
	errCircleMemberBusy     refusal = "the agent is the assignee or the reviewer of an active task of the circle"
	errCircleConflictClosed refusal = "the conflict is resolved already"
)

// scanCircle reads one circles row, with its times in UTC.
func scanCircle(row pgx.Row) (store.Circle, error) {
	var c store.Circle
	var project, creator *int64
	var created, updated time.Time
	var started *time.Time
	err := row.Scan(&c.ID, &c.Name, &c.Description, &c.RequireReview, &c.AutoRoute, &c.MaxConcurrentTasks, &project,
		&c.Status, &creator, &created, &updated, &started)
	c.ProjectID, c.CreatedBy = idOf(project), idOf(creator)
	c.CreatedAt, c.UpdatedAt, c.StartedAt = created.UTC(), updated.UTC(), utc(started)
	return c, err
}

// checkCircle refuses with EINVALID a circle the schema would refuse.
func checkCircle(c store.Circle) error {
	switch {
	case !store.ValidCircleName(c.Name):
		return gathering.Errorf(gathering.EINVALID, "circle %q: the name is not 1 to 64 letters, digits, '.', '_' or '-'", c.Name)
	case c.Status != store.CircleStopped && c.Status != store.CircleRunning:
		return gathering.Errorf(gathering.EINVALID, "circle %q: status %q is unknown", c.Name, c.Status)
	case c.MaxConcurrentTasks < 1 || c.MaxConcurrentTasks > 100:
		return gathering.Errorf(gathering.EINVALID, "circle %q: max_concurrent_tasks %d is not 1 to 100", c.Name, c.MaxConcurrentTasks)
	}
	return nil
}

// CircleCreate inserts a circle and returns it with its id.
func (s *Store) CircleCreate(ctx context.Context, c store.Circle) (store.Circle, error) {
	if err := checkCircle(c); err != nil {
		return store.Circle{}, err
	}
	got, err := scanCircle(s.pool.QueryRow(ctx,
		`INSERT INTO circles (name, description, require_review, auto_route, max_concurrent_tasks, project_id, status,
		     created_by, created_at, updated_at, started_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING `+circleColumns,
		c.Name, c.Description, c.RequireReview, c.AutoRoute, c.MaxConcurrentTasks, nullID(c.ProjectID), c.Status,
		nullID(c.CreatedBy), c.CreatedAt, c.UpdatedAt, nullTime(c.StartedAt)))
	return got, refError(err, gathering.ENOTFOUND, "project not found", "create circle %q", c.Name)
}

// CircleGet returns the circle of that exact name, or ENOTFOUND.
func (s *Store) CircleGet(ctx context.Context, name string) (store.Circle, error) {
	c, err := scanCircle(s.pool.QueryRow(ctx, `SELECT `+circleColumns+` FROM circles WHERE name = $1`, name))
	return c, translate(err, "get circle %q", name)
}

// CircleGetByID returns a circle or ENOTFOUND.
func (s *Store) CircleGetByID(ctx context.Context, id int64) (store.Circle, error) {
	c, err := scanCircle(s.pool.QueryRow(ctx, `SELECT `+circleColumns+` FROM circles WHERE id = $1`, id))
	return c, translate(err, "get circle %d", id)
}

// CircleList returns a page of the circles that match, by id, and the
// total.
func (s *Store) CircleList(ctx context.Context, f store.CircleFilter, pg store.Page) ([]store.Circle, int, error) {
	if f.Status != "" && f.Status != store.CircleStopped && f.Status != store.CircleRunning {
		return nil, 0, gathering.Errorf(gathering.EINVALID, "circle status %q is unknown", f.Status)
	}
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM circles WHERE `+circleMatch, f.Status, f.ProjectID).Scan(&total); err != nil {
		return nil, 0, translate(err, "count circles")
	}
	limit, offset := listPage(pg)
	rows, err := s.pool.Query(ctx, `SELECT `+circleColumns+` FROM circles WHERE `+circleMatch+` ORDER BY id LIMIT $3 OFFSET $4`,
		f.Status, f.ProjectID, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list circles")
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Circle, error) { return scanCircle(row) })
	return list, total, translate(err, "list circles")
}

// CircleUpdate replaces a circle's editable fields.
func (s *Store) CircleUpdate(ctx context.Context, c store.Circle) (store.Circle, error) {
	if err := checkCircle(c); err != nil {
		return store.Circle{}, err
	}
	got, err := scanCircle(s.pool.QueryRow(ctx,
		`UPDATE circles SET description = $2, require_review = $3, auto_route = $4, max_concurrent_tasks = $5,
		     project_id = $6, updated_at = $7
		 WHERE id = $1 RETURNING `+circleColumns,
		c.ID, c.Description, c.RequireReview, c.AutoRoute, c.MaxConcurrentTasks, nullID(c.ProjectID), c.UpdatedAt))
	return got, refError(err, gathering.ENOTFOUND, "project not found", "update circle %d", c.ID)
}

// CircleSetStatus turns a circle from one status into another, in one
// conditional UPDATE.
func (s *Store) CircleSetStatus(ctx context.Context, id int64, from, to store.CircleStatus, at time.Time) (store.Circle, error) {
	if to != store.CircleStopped && to != store.CircleRunning {
		return store.Circle{}, gathering.Errorf(gathering.EINVALID, "circle status %q is unknown", to)
	}
	c, err := scanCircle(s.pool.QueryRow(ctx,
		`UPDATE circles SET status = $3, updated_at = $4,
		     started_at = CASE WHEN $3 = 'running' THEN $4 ELSE started_at END
		 WHERE id = $1 AND status = $2 RETURNING `+circleColumns, id, from, to, at))
	if errors.Is(err, pgx.ErrNoRows) {
		err = s.missingOr(ctx, errCircleStatus, `SELECT EXISTS (SELECT 1 FROM circles WHERE id = $1)`, id)
	}
	return c, runError(err, "turn circle %d from %s to %s", id, from, to)
}

// CircleDelete deletes a circle; its members, tasks, reviews and
// conflicts go by cascade.
func (s *Store) CircleDelete(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM circles WHERE id = $1`, id)
	return affectedOne(tag.RowsAffected(), err, "delete circle %d", id)
}

// circleDetailQuery loads a circle ($1 its name) with one row per member
// (one row with NULL members when it has none), its task counts and open
// conflicts, and each member's workload and reviews, in one statement.
const circleDetailQuery = `WITH c AS (SELECT ` + circleColumns + ` FROM circles WHERE name = $1),
	counts AS (SELECT coalesce(json_object_agg(s.status, s.n), '{}')::text AS counts
	    FROM (SELECT t.status, count(*) AS n FROM circle_tasks t JOIN c ON t.circle_id = c.id GROUP BY t.status) s),
	open AS (SELECT count(*) AS n FROM circle_conflicts f JOIN c ON f.circle_id = c.id WHERE f.resolved_at IS NULL),
	loads AS (SELECT t.assigned_agent_id AS agent_id, count(*) AS n FROM circle_tasks t JOIN c ON t.circle_id = c.id
	    WHERE t.status IN ('assigned', 'in_progress', 'in_review') GROUP BY t.assigned_agent_id),
	reviews AS (SELECT t.reviewer_id AS agent_id, count(*) AS n FROM circle_tasks t JOIN c ON t.circle_id = c.id
	    WHERE t.status = 'in_review' AND t.reviewer_id IS NOT NULL GROUP BY t.reviewer_id)
	SELECT c.id, c.name, c.description, c.require_review, c.auto_route, c.max_concurrent_tasks, c.project_id, c.status,
	    c.created_by, c.created_at, c.updated_at, c.started_at, counts.counts, open.n,
	    m.agent_id, m.competencies, m.can_review, m.joined_at, a.name, a.provider, a.model, a.persona_id,
	    p.display_name, coalesce(l.n, 0), coalesce(r.n, 0)
	FROM c CROSS JOIN counts CROSS JOIN open
	LEFT JOIN circle_members m ON m.circle_id = c.id
	LEFT JOIN agents a ON a.id = m.agent_id
	LEFT JOIN personas p ON p.id = a.persona_id
	LEFT JOIN loads l ON l.agent_id = m.agent_id
	LEFT JOIN reviews r ON r.agent_id = m.agent_id
	ORDER BY m.agent_id`

// CircleDetail loads a circle, its members with their agents and
// personas, and its counts, in one query.
func (s *Store) CircleDetail(ctx context.Context, name string) (store.CircleDetail, error) {
	rows, err := s.pool.Query(ctx, circleDetailQuery, name)
	if err != nil {
		return store.CircleDetail{}, translate(err, "load circle %q", name)
	}
	d := store.CircleDetail{Members: []store.CircleMemberDetail{}}
	found := false
	for rows.Next() {
		found = true
		if err := scanCircleDetailRow(rows, &d); err != nil {
			rows.Close()
			return store.CircleDetail{}, translate(err, "load circle %q", name)
		}
	}
	if err := rows.Err(); err != nil {
		return store.CircleDetail{}, translate(err, "load circle %q", name)
	}
	if !found {
		return store.CircleDetail{}, translate(pgx.ErrNoRows, "load circle %q", name)
	}
	return d, nil
}

// scanCircleDetailRow reads one row of circleDetailQuery into d: the circle and
// its counts (the same on every row), and the row's member, if any.
func scanCircleDetailRow(rows pgx.Rows, d *store.CircleDetail) error {
	var c store.Circle
	var project, creator, agentID, personaID *int64
	var created, updated time.Time
	var started, joined *time.Time
	var counts string
	var competencies, agentName, provider, model, personaName *string
	var canReview *bool
	var m store.CircleMemberDetail
	err := rows.Scan(&c.ID, &c.Name, &c.Description, &c.RequireReview, &c.AutoRoute, &c.MaxConcurrentTasks, &project,
		&c.Status, &creator, &created, &updated, &started, &counts, &d.OpenConflicts,
		&agentID, &competencies, &canReview, &joined, &agentName, &provider, &model, &personaID, &personaName,
		&m.Workload, &m.Reviewing)
	if err != nil {
		return err
	}
	c.ProjectID, c.CreatedBy = idOf(project), idOf(creator)
	c.CreatedAt, c.UpdatedAt, c.StartedAt = created.UTC(), updated.UTC(), utc(started)
	d.Circle = c
	if err := json.Unmarshal([]byte(counts), &d.TaskCounts); err != nil {
		return err
	}
	if agentID == nil {
		return nil
	}
	m.CircleID, m.AgentID, m.CanReview, m.JoinedAt = c.ID, *agentID, *canReview, utc(joined)
	m.AgentName, m.Provider, m.Model, m.PersonaID, m.PersonaName = *agentName, *provider, *model, idOf(personaID), *personaName
	if m.Competencies, err = parseList(*competencies); err != nil {
		return err
	}
	d.Members = append(d.Members, m)
	return nil
}

// lockCircle locks a circle's row FOR UPDATE until tx ends, so that the
// changes of its members and the activations of its tasks take turns;
// pgx.ErrNoRows when it does not exist. It returns max_concurrent_tasks.
func lockCircle(ctx context.Context, tx pgx.Tx, id int64) (int, error) {
	var most int
	err := tx.QueryRow(ctx, `SELECT max_concurrent_tasks FROM circles WHERE id = $1 FOR UPDATE`, id).Scan(&most)
	return most, err
}

// CircleMemberAdd adds an agent to a circle with fewer than maxMembers
// members, counted while the circle is locked.
func (s *Store) CircleMemberAdd(ctx context.Context, m store.CircleMember, maxMembers int) (store.CircleMember, error) {
	var got store.CircleMember
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := lockCircle(ctx, tx, m.CircleID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM circle_members WHERE circle_id = $1`, m.CircleID).Scan(&n); err != nil {
			return err
		}
		if n >= maxMembers {
			return errCircleCrowded
		}
		var err error
		got, err = scanCircleMember(tx.QueryRow(ctx, `INSERT INTO circle_members (circle_id, agent_id, competencies, can_review, joined_at)
			 VALUES ($1, $2, $3, $4, $5) RETURNING circle_id, agent_id, competencies, can_review, joined_at`,
			m.CircleID, m.AgentID, listJSON(m.Competencies), m.CanReview, m.JoinedAt))
		return err
	})
	if _, refused := errors.AsType[refusal](err); refused {
		return got, runError(err, "add agent %d to circle %d", m.AgentID, m.CircleID)
	}
	return got, refError(err, gathering.ENOTFOUND, "agent not found", "add agent %d to circle %d", m.AgentID, m.CircleID)
}

// scanCircleMember reads one circle_members row, with its time in UTC.
func scanCircleMember(row pgx.Row) (store.CircleMember, error) {
	var m store.CircleMember
	var competencies string
	var joined time.Time
	if err := row.Scan(&m.CircleID, &m.AgentID, &competencies, &m.CanReview, &joined); err != nil {
		return m, err
	}
	m.JoinedAt = joined.UTC()
	var err error
	m.Competencies, err = parseList(competencies)
	return m, err
}

// CircleMemberRemove removes an agent from a circle, unless it is busy
// with an active task of it, checked while the circle is locked.
func (s *Store) CircleMemberRemove(ctx context.Context, circleID, agentID int64) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := lockCircle(ctx, tx, circleID); err != nil {
			return err
		}
		var busy bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM circle_tasks WHERE circle_id = $1
			     AND status IN ('assigned', 'in_progress', 'in_review') AND (assigned_agent_id = $2 OR reviewer_id = $2))`,
			circleID, agentID).Scan(&busy)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM circle_members WHERE circle_id = $1 AND agent_id = $2`, circleID, agentID)
		switch {
		case err != nil:
			return err
		case tag.RowsAffected() == 0:
			return pgx.ErrNoRows
		case busy:
			return errCircleMemberBusy
		}
		return nil
	})
	return runError(err, "remove agent %d from circle %d", agentID, circleID)
}

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

// nullBackgroundID returns nil for no background task (""), stored as NULL.
func nullBackgroundID(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// checkCircleTask refuses with EINVALID a task the schema would refuse.
func checkCircleTask(t store.CircleTask) error {
	switch {
	case t.Title == "":
		return gathering.Errorf(gathering.EINVALID, "circle task: the title is empty")
	case t.Priority < 1 || t.Priority > 10:
		return gathering.Errorf(gathering.EINVALID, "circle task %q: priority %d is not 1 to 10", t.Title, t.Priority)
	case !slices.Contains(store.TaskStates, t.Status):
		return gathering.Errorf(gathering.EINVALID, "circle task %q: status %q is unknown", t.Title, t.Status)
	case (t.Status == store.TaskPending) != (t.AssignedAgentID == 0):
		return gathering.Errorf(gathering.EINVALID, "circle task %q: a task has an assignee unless it is pending", t.Title)
	}
	return nil
}

// CircleTaskCreate inserts a pending task and returns it with its id.
func (s *Store) CircleTaskCreate(ctx context.Context, t store.CircleTask) (store.CircleTask, error) {
	t.Status, t.AssignedAgentID = store.TaskPending, 0
	if err := checkCircleTask(t); err != nil {
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
	if f.Status != "" && !slices.Contains(store.TaskStates, f.Status) {
		return nil, 0, gathering.Errorf(gathering.EINVALID, "circle task status %q is unknown", f.Status)
	}
	args := []any{f.CircleID, f.Status, f.Active, f.AgentID, f.ProjectID, f.BackgroundTaskID, f.AfterID}
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM circle_tasks WHERE `+circleTaskMatch, args...).Scan(&total); err != nil {
		return nil, 0, translate(err, "count circle tasks")
	}
	limit, offset := listPage(pg)
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
	if err := checkCircleTask(t); err != nil {
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
			t.ID, c.From, nullBackgroundID(c.FromBackgroundTask), t.Status, nullID(t.AssignedAgentID), nullID(t.ReviewerID),
			t.Result, listJSON(t.FilesModified), t.Feedback, nullBackgroundID(t.BackgroundTaskID), t.UpdatedAt,
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
	limit, offset := listPage(pg)
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
