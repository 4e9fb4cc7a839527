package servertools

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/gathering/gathering/internal/engine"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// Pipelines starts pipeline runs; *engine.Engine is one.
type Pipelines interface {
	Submit(ctx context.Context, pipelineID int64, trigger json.RawMessage, userID int64) (store.PipelineRun, error)
}

// pipelineRunTool starts a run of a pipeline, as POST /pipelines/{id}/run.
func pipelineRunTool(d Deps) tool.Tool {
	return tool.Tool{
		Name:        "gathering.pipeline_run",
		Description: "Start a run of a pipeline with optional trigger data. The run executes in the background; the answer names it.",
		Input: json.RawMessage(`{"type":"object","additionalProperties":false,"required":["pipeline_id"],"properties":{
			"pipeline_id":{"type":"integer","minimum":1,"description":"The pipeline to run."},
			"trigger_data":{"description":"Any JSON the run's nodes see as the trigger data."}}}`),
		Output:      json.RawMessage(`{"type":"object","required":["run_id","pipeline_id","status"]}`),
		Permissions: []tool.Permission{tool.PermManage},
		Timeout:     15 * time.Second,
		Run: func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
			var in struct {
				PipelineID  int64           `json:"pipeline_id"`
				TriggerData json.RawMessage `json:"trigger_data"`
			}
			if err := decode(input, &in); err != nil {
				return nil, err
			}
			inv, err := actor(ctx, d.Users)
			if err != nil {
				return nil, err
			}
			run, err := d.Pipelines.Submit(ctx, in.PipelineID, in.TriggerData, inv.UserID)
			if invalid, ok := errors.AsType[*engine.InvalidError](err); ok {
				return nil, invalidPipeline(invalid)
			}
			if err != nil {
				return nil, err
			}
			return output(map[string]any{"run_id": run.ID, "pipeline_id": run.PipelineID, "status": run.Status})
		},
	}
}

// invalidPipeline turns the engine's refusal into field-level EINVALID.
func invalidPipeline(e *engine.InvalidError) error {
	fields := make([]gathering.FieldError, 0, len(e.Problems))
	for _, p := range e.Problems {
		field := p.Field
		if p.NodeID != "" {
			field = "nodes/" + p.NodeID + "/" + field
		}
		fields = append(fields, gathering.FieldError{Field: field, Message: p.Message})
	}
	return gathering.Invalid("The pipeline's definition is invalid; it cannot run.", fields...)
}
