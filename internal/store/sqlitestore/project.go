package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// projectColumns are the columns scanProject reads, in order.
const projectColumns = `id, name, description, repository_path, status, tags, settings, created_by, created_at,
	updated_at, version`

// projectMatch is the condition of a ProjectFilter (?1 status, ?2 tag),
// whose zero fields match everything.
const projectMatch = `(?1 = '' OR status = ?1) AND (?2 = '' OR EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?2))`

// activityColumns are the columns scanActivity reads, in order.
const activityColumns = `id, project_id, kind, summary, path, details, user_id, agent_id, at`

// activityMatch is the condition of an ActivityFilter (?1 project, ?2 kind,
// ?3 user, ?4 agent, ?5 path, ?6 since, ?7 until), whose zero fields match
// everything.
const activityMatch = `project_id = ?1 AND (?2 = '' OR kind = ?2) AND (?3 = 0 OR user_id = ?3)
	AND (?4 = 0 OR agent_id = ?4) AND (?5 = '' OR path = ?5) AND (?6 IS NULL OR at >= ?6)
	AND (?7 IS NULL OR at < ?7)`

// errProjectChanged is why an update of a project matched no row although
// the project exists.
const errProjectChanged refusal = "the project was changed meanwhile"

// scanProject reads one projects row, converting its times to UTC, keeping
// its settings as the stored bytes and decoding its tags.
func scanProject(row scanner) (store.Project, error) {
	var p store.Project
	var tags, settings string
	var creator sql.NullInt64
	var created, updated int64
	err := row.Scan(&p.ID, &p.Name, &p.Description, &p.RepositoryPath, &p.Status, &tags, &settings, &creator,
		&created, &updated, &p.Version)
	if err != nil {
		return p, err
	}
	p.Settings, p.CreatedBy, p.CreatedAt, p.UpdatedAt = json.RawMessage(settings), creator.Int64, fromMS(created), fromMS(updated)
	p.Tags, err = decodeTags(tags)
	return p, err
}

// ProjectCreate inserts a project at version 1 and returns it with its id.
func (s *Store) ProjectCreate(ctx context.Context, p store.Project) (store.Project, error) {
	if err := p.Check(); err != nil {
		return store.Project{}, err
	}
	got, err := scanProject(s.write.QueryRowContext(ctx,
		`INSERT INTO projects (name, description, repository_path, status, tags, settings, created_by, created_at,
		     updated_at, version)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING `+projectColumns,
		p.Name, p.Description, p.RepositoryPath, p.Status, listJSON(p.Tags), string(p.Settings), nullID(p.CreatedBy),
		p.CreatedAt.UnixMilli(), p.UpdatedAt.UnixMilli()))
	return got, translate(err, "create project %q", p.Name)
}

// ProjectGet returns a project or ENOTFOUND.
func (s *Store) ProjectGet(ctx context.Context, id int64) (store.Project, error) {
	p, err := scanProject(s.read.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = ?`, id))
	return p, translate(err, "get project %d", id)
}

// ProjectList returns a page of the projects that match, by id, and the
// total count of matches. A page holds 50 projects when Limit is not
// positive, and at most 500.
func (s *Store) ProjectList(ctx context.Context, f store.ProjectFilter, pg store.Page) ([]store.Project, int, error) {
	if err := f.Check(); err != nil {
		return nil, 0, err
	}
	var total int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM projects WHERE `+projectMatch, f.Status, f.Tag).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count projects")
	}
	limit, offset := pg.ListBounds()
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+projectColumns+` FROM projects WHERE `+projectMatch+` ORDER BY id LIMIT ?3 OFFSET ?4`,
		f.Status, f.Tag, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list projects")
	}
	list, err := collect(rows, scanProject)
	return list, total, translate(err, "list projects")
}

// ProjectUpdate writes a project's fields in one conditional UPDATE that
// matches only while the stored version is still p.Version, and bumps the
// version. When it matches no row it tells a missing project (ENOTFOUND)
// from a changed one (ECONFLICT).
func (s *Store) ProjectUpdate(ctx context.Context, p store.Project) (store.Project, error) {
	if err := p.Check(); err != nil {
		return store.Project{}, err
	}
	got, err := scanProject(s.write.QueryRowContext(ctx,
		`UPDATE projects SET name = ?3, description = ?4, repository_path = ?5, status = ?6, tags = ?7,
		     settings = ?8, updated_at = ?9, version = version + 1
		 WHERE id = ?1 AND version = ?2 RETURNING `+projectColumns,
		p.ID, p.Version, p.Name, p.Description, p.RepositoryPath, p.Status, listJSON(p.Tags), string(p.Settings),
		p.UpdatedAt.UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		err = s.missingOr(ctx, errProjectChanged, `SELECT EXISTS (SELECT 1 FROM projects WHERE id = ?)`, p.ID)
	}
	return got, runError(err, "update project %d at version %d", p.ID, p.Version)
}

// ProjectDelete deletes a project, and its agent links and activity with
// it (ON DELETE CASCADE); ENOTFOUND.
func (s *Store) ProjectDelete(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM projects WHERE id = ?`, id)
	return affectedOne(res, err, "delete project %d", id)
}

// ProjectAgentLink links an agent to a project, keeping the first link's
// time when it exists; ENOTFOUND when either does not exist.
func (s *Store) ProjectAgentLink(ctx context.Context, projectID, agentID int64, at time.Time) error {
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO project_agents (project_id, agent_id, linked_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		projectID, agentID, at.UnixMilli())
	return refError(err, gathering.ENOTFOUND, "project or agent not found", "link agent %d to project %d",
		agentID, projectID)
}

// ProjectAgentUnlink removes a link; ENOTFOUND when there is none.
func (s *Store) ProjectAgentUnlink(ctx context.Context, projectID, agentID int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM project_agents WHERE project_id = ? AND agent_id = ?`,
		projectID, agentID)
	return affectedOne(res, err, "unlink agent %d from project %d", agentID, projectID)
}

// ProjectAgents returns the ids of the agents linked to a project, sorted.
func (s *Store) ProjectAgents(ctx context.Context, projectID int64) ([]int64, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT agent_id FROM project_agents WHERE project_id = ? ORDER BY agent_id`, projectID)
	ids, err := collectIDs(rows, err)
	return ids, translate(err, "list agents of project %d", projectID)
}

// AgentProjects returns the ids of the projects an agent is linked to,
// sorted.
func (s *Store) AgentProjects(ctx context.Context, agentID int64) ([]int64, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT project_id FROM project_agents WHERE agent_id = ? ORDER BY project_id`, agentID)
	ids, err := collectIDs(rows, err)
	return ids, translate(err, "list projects of agent %d", agentID)
}

// collectIDs reads every row of a query of one id column, unless the query
// failed.
func collectIDs(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row scanner) (int64, error) {
		var id int64
		return id, row.Scan(&id)
	})
}

// scanActivity reads one project_activities row, converting its time to
// UTC and keeping its details as the stored bytes.
func scanActivity(row scanner) (store.Activity, error) {
	var a store.Activity
	var details string
	var user, agent sql.NullInt64
	var at int64
	err := row.Scan(&a.ID, &a.ProjectID, &a.Kind, &a.Summary, &a.Path, &details, &user, &agent, &at)
	a.Details, a.UserID, a.AgentID, a.At = json.RawMessage(details), user.Int64, agent.Int64, fromMS(at)
	return a, err
}

// ActivityAdd appends an activity to a project's log and returns it with
// its id; nil details are stored as {}.
func (s *Store) ActivityAdd(ctx context.Context, a store.Activity) (store.Activity, error) {
	if err := a.Check(); err != nil {
		return store.Activity{}, err
	}
	if a.Details == nil {
		a.Details = json.RawMessage(`{}`)
	}
	got, err := scanActivity(s.write.QueryRowContext(ctx,
		`INSERT INTO project_activities (project_id, kind, summary, path, details, user_id, agent_id, at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+activityColumns,
		a.ProjectID, a.Kind, a.Summary, a.Path, string(a.Details), nullID(a.UserID), nullID(a.AgentID),
		a.At.UnixMilli()))
	return got, refError(err, gathering.ENOTFOUND, "project not found", "add activity to project %d", a.ProjectID)
}

// activityArgs are the values of activityMatch for f.
func activityArgs(f store.ActivityFilter) []any {
	return []any{f.ProjectID, f.Kind, f.UserID, f.AgentID, f.Path, nullMS(f.Since), nullMS(f.Until)}
}

// ActivityList returns a page of a project's activities that match, newest
// first, and the total count of matches. A page holds 50 activities when
// Limit is not positive, and at most 500.
func (s *Store) ActivityList(ctx context.Context, f store.ActivityFilter, pg store.Page) ([]store.Activity, int, error) {
	if err := f.Check(); err != nil {
		return nil, 0, err
	}
	var total int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM project_activities WHERE `+activityMatch,
		activityArgs(f)...).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count activities of project %d", f.ProjectID)
	}
	limit, offset := pg.ListBounds()
	rows, err := s.read.QueryContext(ctx, `SELECT `+activityColumns+` FROM project_activities WHERE `+activityMatch+`
		 ORDER BY at DESC, id DESC LIMIT ?8 OFFSET ?9`, append(activityArgs(f), limit, offset)...)
	if err != nil {
		return nil, 0, translate(err, "list activities of project %d", f.ProjectID)
	}
	list, err := collect(rows, scanActivity)
	return list, total, translate(err, "list activities of project %d", f.ProjectID)
}

// ActivityStats counts a project's activities within the filter's times
// by kind; the kinds it has none of are absent.
func (s *Store) ActivityStats(ctx context.Context, f store.ActivityFilter) (map[string]int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT kind, count(*) FROM project_activities
		 WHERE project_id = ?1 AND (?2 IS NULL OR at >= ?2) AND (?3 IS NULL OR at < ?3) GROUP BY kind`,
		f.ProjectID, nullMS(f.Since), nullMS(f.Until))
	if err != nil {
		return nil, translate(err, "count activities of project %d by kind", f.ProjectID)
	}
	counts, err := collect(rows, func(row scanner) (kindCount, error) {
		var c kindCount
		return c, row.Scan(&c.kind, &c.n)
	})
	if err != nil {
		return nil, translate(err, "count activities of project %d by kind", f.ProjectID)
	}
	stats := make(map[string]int, len(counts))
	for _, c := range counts {
		stats[c.kind] = c.n
	}
	return stats, nil
}

// kindCount is one row of ActivityStats.
type kindCount struct {
	kind string
	n    int
}
