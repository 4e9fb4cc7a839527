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

// pipelineColumns are the columns scanPipeline reads, in order.
const pipelineColumns = `id, name, description, status, nodes, edges, settings, version, created_by, created_at,
	updated_at`

// scanPipeline reads one pipelines row, with its times in UTC and its JSON
// as the stored bytes.
func scanPipeline(row pgx.Row) (store.Pipeline, error) {
	var p store.Pipeline
	var nodes, edges, settings string
	var creator *int64
	var created, updated time.Time
	err := row.Scan(&p.ID, &p.Name, &p.Description, &p.Status, &nodes, &edges, &settings, &p.Version, &creator,
		&created, &updated)
	p.Nodes, p.Edges, p.Settings = json.RawMessage(nodes), json.RawMessage(edges), json.RawMessage(settings)
	p.CreatedBy, p.CreatedAt, p.UpdatedAt = idOf(creator), created.UTC(), updated.UTC()
	return p, err
}

// PipelineCreate inserts a pipeline at version 1 and returns it with its
// id; ECONFLICT when its name is taken, EINVALID when its status or JSON is
// not valid.
func (s *Store) PipelineCreate(ctx context.Context, p store.Pipeline) (store.Pipeline, error) {
	if err := p.Check(); err != nil {
		return store.Pipeline{}, err
	}
	got, err := scanPipeline(s.pool.QueryRow(ctx,
		`INSERT INTO pipelines (name, description, status, nodes, edges, settings, version, created_by, created_at,
		     updated_at)
		 VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9) RETURNING `+pipelineColumns,
		p.Name, p.Description, p.Status, string(p.Nodes), string(p.Edges), string(p.Settings), nullID(p.CreatedBy),
		p.CreatedAt, p.UpdatedAt))
	return got, translate(err, "create pipeline %q", p.Name)
}

// PipelineGet returns a pipeline or ENOTFOUND.
func (s *Store) PipelineGet(ctx context.Context, id int64) (store.Pipeline, error) {
	p, err := scanPipeline(s.pool.QueryRow(ctx, `SELECT `+pipelineColumns+` FROM pipelines WHERE id = $1`, id))
	return p, translate(err, "get pipeline %d", id)
}

// PipelineList returns a page of pipelines by id (of one status when status
// is set), and the total; EINVALID for an unknown status.
func (s *Store) PipelineList(ctx context.Context, status store.PipelineStatus, p store.Page) ([]store.Pipeline, int, error) {
	if err := status.CheckFilter(); err != nil {
		return nil, 0, err
	}
	var total int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pipelines WHERE $1 = '' OR status = $1`, status).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count pipelines")
	}
	limit, offset := p.ListBounds()
	rows, err := s.pool.Query(ctx,
		`SELECT `+pipelineColumns+` FROM pipelines WHERE $1 = '' OR status = $1 ORDER BY id LIMIT $2 OFFSET $3`,
		status, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list pipelines")
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Pipeline, error) { return scanPipeline(row) })
	return list, total, translate(err, "list pipelines")
}

// PipelineUpdate replaces a pipeline's name, description, status, JSON and
// UpdatedAt in one conditional UPDATE that matches only while the stored
// version is still p.Version, and bumps the version. When it matches no row
// it tells a missing pipeline (ENOTFOUND) from a changed one (ECONFLICT);
// ECONFLICT too on a taken name, EINVALID when the status or JSON is not
// valid.
func (s *Store) PipelineUpdate(ctx context.Context, p store.Pipeline) (store.Pipeline, error) {
	if err := p.Check(); err != nil {
		return store.Pipeline{}, err
	}
	got, err := scanPipeline(s.pool.QueryRow(ctx,
		`UPDATE pipelines SET name = $3, description = $4, status = $5, nodes = $6, edges = $7, settings = $8,
		     version = version + 1, updated_at = $9
		 WHERE id = $1 AND version = $2 RETURNING `+pipelineColumns,
		p.ID, p.Version, p.Name, p.Description, p.Status, string(p.Nodes), string(p.Edges), string(p.Settings),
		p.UpdatedAt))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Pipeline{}, s.staleOrMissing(ctx, p.ID, p.Version)
	}
	return got, translate(err, "update pipeline %d", p.ID)
}

// staleOrMissing explains why a pipeline update matched no row: ECONFLICT
// when the pipeline exists (so its version moved on), else ENOTFOUND.
func (s *Store) staleOrMissing(ctx context.Context, id, version int64) error {
	var exists bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pipelines WHERE id = $1)`, id).Scan(&exists)
	switch {
	case err != nil:
		return translate(err, "update pipeline %d", id)
	case !exists:
		return translate(pgx.ErrNoRows, "update pipeline %d", id)
	}
	return gathering.Errorf(gathering.ECONFLICT, "pipeline %d was changed since version %d", id, version)
}

// PipelineDelete deletes a pipeline; ENOTFOUND.
func (s *Store) PipelineDelete(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM pipelines WHERE id = $1`, id)
	return affectedOne(tag.RowsAffected(), err, "delete pipeline %d", id)
}
