package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// circleColumns are the columns scanCircle reads, in order.
const circleColumns = `id, name, description, require_review, auto_route, max_concurrent_tasks, project_id, status,
	created_by, created_at, updated_at, started_at`

// circleMatch is the condition of a CircleFilter (?1 status, ?2 project),
// whose zero fields match everything.
const circleMatch = `(?1 = '' OR status = ?1) AND (?2 = 0 OR project_id = ?2)`

// The refusals of the circle store.
const (
	errCircleStatus         refusal = "the circle is not in the expected status"
	errCircleFull           refusal = "the circle has its most active tasks already"
	errCircleCrowded        refusal = "the circle has its most members already"
	errCircleTaskChanged    refusal = "the task changed meanwhile"
	errCircleMemberBusy     refusal = "the agent is the assignee or the reviewer of an active task of the circle"
	errCircleConflictClosed refusal = "the conflict is resolved already"
)

// scanCircle reads one circles row, converting its times to UTC.
func scanCircle(row scanner) (store.Circle, error) {
	var c store.Circle
	var project, creator, started sql.NullInt64
	var created, updated int64
	err := row.Scan(&c.ID, &c.Name, &c.Description, &c.RequireReview, &c.AutoRoute, &c.MaxConcurrentTasks, &project,
		&c.Status, &creator, &created, &updated, &started)
	c.ProjectID, c.CreatedBy = project.Int64, creator.Int64
	c.CreatedAt, c.UpdatedAt, c.StartedAt = fromMS(created), fromMS(updated), fromNullMS(started)
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
	got, err := scanCircle(s.write.QueryRowContext(ctx,
		`INSERT INTO circles (name, description, require_review, auto_route, max_concurrent_tasks, project_id, status,
		     created_by, created_at, updated_at, started_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+circleColumns,
		c.Name, c.Description, c.RequireReview, c.AutoRoute, c.MaxConcurrentTasks, nullID(c.ProjectID), c.Status,
		nullID(c.CreatedBy), c.CreatedAt.UnixMilli(), c.UpdatedAt.UnixMilli(), nullMS(c.StartedAt)))
	return got, refError(err, gathering.ENOTFOUND, "project not found", "create circle %q", c.Name)
}

// CircleGet returns the circle of that exact name, or ENOTFOUND.
func (s *Store) CircleGet(ctx context.Context, name string) (store.Circle, error) {
	c, err := scanCircle(s.read.QueryRowContext(ctx, `SELECT `+circleColumns+` FROM circles WHERE name = ?`, name))
	return c, translate(err, "get circle %q", name)
}

// CircleGetByID returns a circle or ENOTFOUND.
func (s *Store) CircleGetByID(ctx context.Context, id int64) (store.Circle, error) {
	c, err := scanCircle(s.read.QueryRowContext(ctx, `SELECT `+circleColumns+` FROM circles WHERE id = ?`, id))
	return c, translate(err, "get circle %d", id)
}

// CircleList returns a page of the circles that match, by id, and the
// total.
func (s *Store) CircleList(ctx context.Context, f store.CircleFilter, pg store.Page) ([]store.Circle, int, error) {
	if f.Status != "" && f.Status != store.CircleStopped && f.Status != store.CircleRunning {
		return nil, 0, gathering.Errorf(gathering.EINVALID, "circle status %q is unknown", f.Status)
	}
	var total int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM circles WHERE `+circleMatch, f.Status, f.ProjectID).Scan(&total); err != nil {
		return nil, 0, translate(err, "count circles")
	}
	limit, offset := listPage(pg)
	rows, err := s.read.QueryContext(ctx, `SELECT `+circleColumns+` FROM circles WHERE `+circleMatch+`
		 ORDER BY id LIMIT ?3 OFFSET ?4`, f.Status, f.ProjectID, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list circles")
	}
	list, err := collect(rows, scanCircle)
	return list, total, translate(err, "list circles")
}

// CircleUpdate replaces a circle's editable fields.
func (s *Store) CircleUpdate(ctx context.Context, c store.Circle) (store.Circle, error) {
	if err := checkCircle(c); err != nil {
		return store.Circle{}, err
	}
	got, err := scanCircle(s.write.QueryRowContext(ctx,
		`UPDATE circles SET description = ?2, require_review = ?3, auto_route = ?4, max_concurrent_tasks = ?5,
		     project_id = ?6, updated_at = ?7
		 WHERE id = ?1 RETURNING `+circleColumns,
		c.ID, c.Description, c.RequireReview, c.AutoRoute, c.MaxConcurrentTasks, nullID(c.ProjectID),
		c.UpdatedAt.UnixMilli()))
	return got, refError(err, gathering.ENOTFOUND, "project not found", "update circle %d", c.ID)
}

// CircleSetStatus turns a circle from one status into another, in one
// conditional UPDATE.
func (s *Store) CircleSetStatus(ctx context.Context, id int64, from, to store.CircleStatus, at time.Time) (store.Circle, error) {
	if to != store.CircleStopped && to != store.CircleRunning {
		return store.Circle{}, gathering.Errorf(gathering.EINVALID, "circle status %q is unknown", to)
	}
	c, err := scanCircle(s.write.QueryRowContext(ctx,
		`UPDATE circles SET status = ?3, updated_at = ?4,
		     started_at = CASE WHEN ?3 = 'running' THEN ?4 ELSE started_at END
		 WHERE id = ?1 AND status = ?2 RETURNING `+circleColumns, id, from, to, at.UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		err = s.missingOr(ctx, errCircleStatus, `SELECT EXISTS (SELECT 1 FROM circles WHERE id = ?)`, id)
	}
	return c, runError(err, "turn circle %d from %s to %s", id, from, to)
}

// CircleDelete deletes a circle; its members, tasks, reviews and
// conflicts go by cascade.
func (s *Store) CircleDelete(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM circles WHERE id = ?`, id)
	return affectedOne(res, err, "delete circle %d", id)
}

// circleDetailQuery loads a circle (?1 its name) with one row per member
// (one row with NULL members when it has none), its task counts and open
// conflicts, and each member's workload and reviews, in one statement.
const circleDetailQuery = `WITH c AS (SELECT ` + circleColumns + ` FROM circles WHERE name = ?1),
	counts AS (SELECT json_group_object(s.status, s.n) AS counts
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
	rows, err := s.read.QueryContext(ctx, circleDetailQuery, name)
	if err != nil {
		return store.CircleDetail{}, translate(err, "load circle %q", name)
	}
	defer rows.Close()
	d := store.CircleDetail{Members: []store.CircleMemberDetail{}}
	found := false
	for rows.Next() {
		found = true
		if err := scanCircleDetailRow(rows, &d); err != nil {
			return store.CircleDetail{}, translate(err, "load circle %q", name)
		}
	}
	if err := rows.Err(); err != nil {
		return store.CircleDetail{}, translate(err, "load circle %q", name)
	}
	if !found {
		return store.CircleDetail{}, translate(sql.ErrNoRows, "load circle %q", name)
	}
	return d, nil
}

// scanCircleDetailRow reads one row of circleDetailQuery into d: the circle and
// its counts (the same on every row), and the row's member, if any.
func scanCircleDetailRow(rows *sql.Rows, d *store.CircleDetail) error {
	var c store.Circle
	var project, creator, started, agentID, personaID, joined sql.NullInt64
	var created, updated int64
	var counts string
	var competencies, agentName, provider, model, personaName sql.NullString
	var canReview sql.NullBool
	var m store.CircleMemberDetail
	err := rows.Scan(&c.ID, &c.Name, &c.Description, &c.RequireReview, &c.AutoRoute, &c.MaxConcurrentTasks, &project,
		&c.Status, &creator, &created, &updated, &started, &counts, &d.OpenConflicts,
		&agentID, &competencies, &canReview, &joined, &agentName, &provider, &model, &personaID, &personaName,
		&m.Workload, &m.Reviewing)
	if err != nil {
		return err
	}
	c.ProjectID, c.CreatedBy = project.Int64, creator.Int64
	c.CreatedAt, c.UpdatedAt, c.StartedAt = fromMS(created), fromMS(updated), fromNullMS(started)
	d.Circle = c
	if err := json.Unmarshal([]byte(counts), &d.TaskCounts); err != nil {
		return err
	}
	if !agentID.Valid {
		return nil
	}
	m.CircleID, m.AgentID, m.CanReview, m.JoinedAt = c.ID, agentID.Int64, canReview.Bool, fromNullMS(joined)
	m.AgentName, m.Provider, m.Model = agentName.String, provider.String, model.String
	m.PersonaID, m.PersonaName = personaID.Int64, personaName.String
	if m.Competencies, err = parseList(competencies.String); err != nil {
		return err
	}
	d.Members = append(d.Members, m)
	return nil
}

// circleMaxTasks returns a circle's max_concurrent_tasks within tx;
// sql.ErrNoRows when it does not exist. The write transaction (BEGIN
// IMMEDIATE) already keeps every other writer out.
func circleMaxTasks(ctx context.Context, tx *sql.Tx, id int64) (int, error) {
	var most int
	err := tx.QueryRowContext(ctx, `SELECT max_concurrent_tasks FROM circles WHERE id = ?`, id).Scan(&most)
	return most, err
}

// CircleMemberAdd adds an agent to a circle with fewer than maxMembers
// members, counted in the same write transaction.
func (s *Store) CircleMemberAdd(ctx context.Context, m store.CircleMember, maxMembers int) (store.CircleMember, error) {
	got, err := s.addCircleMember(ctx, m, maxMembers)
	if _, refused := errors.AsType[refusal](err); refused {
		return got, runError(err, "add agent %d to circle %d", m.AgentID, m.CircleID)
	}
	return got, refError(err, gathering.ENOTFOUND, "agent not found", "add agent %d to circle %d", m.AgentID, m.CircleID)
}

// addCircleMember is CircleMemberAdd with its errors untranslated.
func (s *Store) addCircleMember(ctx context.Context, m store.CircleMember, maxMembers int) (store.CircleMember, error) {
	tx, err := s.write.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the one writer
	if err != nil {
		return store.CircleMember{}, err
	}
	defer tx.Rollback()
	if _, err := circleMaxTasks(ctx, tx, m.CircleID); err != nil {
		return store.CircleMember{}, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM circle_members WHERE circle_id = ?`, m.CircleID).Scan(&n); err != nil {
		return store.CircleMember{}, err
	}
	if n >= maxMembers {
		return store.CircleMember{}, errCircleCrowded
	}
	got, err := scanCircleMember(tx.QueryRowContext(ctx, `INSERT INTO circle_members (circle_id, agent_id, competencies, can_review,
		     joined_at) VALUES (?, ?, ?, ?, ?) RETURNING circle_id, agent_id, competencies, can_review, joined_at`,
		m.CircleID, m.AgentID, listJSON(m.Competencies), m.CanReview, m.JoinedAt.UnixMilli()))
	if err != nil {
		return got, err
	}
	return got, tx.Commit()
}

// scanCircleMember reads one circle_members row, converting its time to UTC.
func scanCircleMember(row scanner) (store.CircleMember, error) {
	var m store.CircleMember
	var competencies string
	var joined int64
	if err := row.Scan(&m.CircleID, &m.AgentID, &competencies, &m.CanReview, &joined); err != nil {
		return m, err
	}
	m.JoinedAt = fromMS(joined)
	var err error
	m.Competencies, err = parseList(competencies)
	return m, err
}

// CircleMemberRemove removes an agent from a circle, unless it is busy
// with an active task of it, in one write transaction.
func (s *Store) CircleMemberRemove(ctx context.Context, circleID, agentID int64) error {
	return runError(s.removeCircleMember(ctx, circleID, agentID), "remove agent %d from circle %d", agentID, circleID)
}

// removeCircleMember is CircleMemberRemove with its errors untranslated.
func (s *Store) removeCircleMember(ctx context.Context, circleID, agentID int64) error {
	tx, err := s.write.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the one writer
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var busy bool
	err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM circle_tasks WHERE circle_id = ?1
		     AND status IN ('assigned', 'in_progress', 'in_review') AND (assigned_agent_id = ?2 OR reviewer_id = ?2))`,
		circleID, agentID).Scan(&busy)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM circle_members WHERE circle_id = ? AND agent_id = ?`, circleID, agentID)
	if err != nil {
		return err
	}
	switch n, err := res.RowsAffected(); {
	case err != nil:
		return err
	case n == 0:
		return sql.ErrNoRows
	case busy:
		return errCircleMemberBusy
	}
	return tx.Commit()
}

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

// nullBackgroundID is the stored form of a task's background task: NULL
// for none ("").
func nullBackgroundID(id string) any {
	if id == "" {
		return nil
	}
	return id
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
	if f.Status != "" && !slices.Contains(store.TaskStates, f.Status) {
		return nil, 0, gathering.Errorf(gathering.EINVALID, "circle task status %q is unknown", f.Status)
	}
	args := []any{f.CircleID, f.Status, f.Active, f.AgentID, f.ProjectID, f.BackgroundTaskID, f.AfterID}
	var total int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM circle_tasks WHERE `+circleTaskMatch, args...).Scan(&total); err != nil {
		return nil, 0, translate(err, "count circle tasks")
	}
	limit, offset := listPage(pg)
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
	if err := checkCircleTask(c.Task); err != nil {
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
		t.ID, c.From, nullBackgroundID(c.FromBackgroundTask), t.Status, nullID(t.AssignedAgentID), nullID(t.ReviewerID),
		t.Result, listJSON(t.FilesModified), t.Feedback, nullBackgroundID(t.BackgroundTaskID), t.UpdatedAt.UnixMilli(),
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

// touch is CircleTouch with its errors untranslated.
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
	limit, offset := listPage(pg)
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
