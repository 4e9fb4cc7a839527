package pgstore

import (
	"context"
	"encoding/json"
	"errors"
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

// CircleCreate inserts a circle and returns it with its id.
func (s *Store) CircleCreate(ctx context.Context, c store.Circle) (store.Circle, error) {
	if err := c.Check(); err != nil {
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
	c, err := scanCircle(s.pool.QueryRow(ctx, `SELECT `+circleColumns+` FROM circles WHERE lower(name) = lower($1)`, name))
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
	if err := f.Check(); err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM circles WHERE `+circleMatch, f.Status, f.ProjectID).Scan(&total); err != nil {
		return nil, 0, translate(err, "count circles")
	}
	limit, offset := pg.ListBounds()
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
	if err := c.Check(); err != nil {
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
	if err := to.Check(); err != nil {
		return store.Circle{}, err
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
const circleDetailQuery = `WITH c AS (SELECT ` + circleColumns + ` FROM circles WHERE lower(name) = lower($1)),
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
