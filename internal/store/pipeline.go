package store

import (
	"context"
	"encoding/json"
	"time"
)

// PipelineStore keeps pipeline definitions (PipelineRunStore keeps their runs).
type PipelineStore interface {
	// PipelineCreate inserts a pipeline and returns it with its id;
	// ECONFLICT when its name is taken.
	PipelineCreate(ctx context.Context, p Pipeline) (Pipeline, error)
	// PipelineGet returns a pipeline or ENOTFOUND.
	PipelineGet(ctx context.Context, id int64) (Pipeline, error)
	// PipelineList returns a page of pipelines by id (of one status when
	// status is set), and the total.
	PipelineList(ctx context.Context, status PipelineStatus, p Page) ([]Pipeline, int, error)
	// PipelineUpdate replaces a pipeline's name, description, status,
	// definition and settings, only when its version is still p.Version,
	// and returns it with the next version: ENOTFOUND, or ECONFLICT when
	// someone changed it meanwhile or the name is taken.
	PipelineUpdate(ctx context.Context, p Pipeline) (Pipeline, error)
	// PipelineDelete deletes a pipeline; ENOTFOUND.
	PipelineDelete(ctx context.Context, id int64) error
}

// PipelineStatus is whether a pipeline may run.
type PipelineStatus string

// The pipeline statuses.
const (
	PipelineDraft  PipelineStatus = "draft"
	PipelineActive PipelineStatus = "active"
	PipelinePaused PipelineStatus = "paused"
)

// Pipeline is a stored pipeline definition. Nodes, Edges and Settings are
// kept verbatim, byte for byte, as the API received them.
type Pipeline struct {
	ID          int64
	Name        string // unique
	Description string
	Status      PipelineStatus
	Nodes       json.RawMessage // JSON array
	Edges       json.RawMessage // JSON array
	Settings    json.RawMessage // JSON object
	Version     int64           // 1 at creation, +1 at each update
	CreatedBy   int64           // 0 when unknown
	CreatedAt   time.Time
	UpdatedAt   time.Time
}
