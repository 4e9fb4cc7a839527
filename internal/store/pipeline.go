package store

import (
	"bytes"
	"context"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/gathering"
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

// Check refuses with EINVALID a pipeline whose status is not one of the
// three, or whose nodes or edges are not a JSON array or settings not a
// JSON object (in valid UTF-8).
func (p Pipeline) Check() error {
	switch p.Status {
	case PipelineDraft, PipelineActive, PipelinePaused:
	default:
		return gathering.Errorf(gathering.EINVALID, "pipeline %q: status %q is not draft, active or paused", p.Name, p.Status)
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		kind string
		open byte
	}{
		{"nodes", p.Nodes, "an array", '['},
		{"edges", p.Edges, "an array", '['},
		{"settings", p.Settings, "an object", '{'},
	} {
		if !json.Valid(f.raw) || !utf8.Valid(f.raw) {
			return gathering.Errorf(gathering.EINVALID, "pipeline %q: %s are not valid JSON", p.Name, f.name)
		}
		if bytes.TrimLeft(f.raw, " \t\r\n")[0] != f.open {
			return gathering.Errorf(gathering.EINVALID, "pipeline %q: %s are not %s", p.Name, f.name, f.kind)
		}
	}
	return nil
}

// CheckFilter refuses with EINVALID a list filter that is neither empty
// nor a pipeline status.
func (s PipelineStatus) CheckFilter() error {
	switch s {
	case "", PipelineDraft, PipelineActive, PipelinePaused:
		return nil
	}
	return gathering.Errorf(gathering.EINVALID, "pipeline status %q is not draft, active or paused", s)
}
