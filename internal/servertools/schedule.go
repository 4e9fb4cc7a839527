package servertools

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// Scheduler creates scheduled actions; *scheduler.Scheduler is one.
type Scheduler interface {
	Create(ctx context.Context, a store.ScheduledAction, userID int64) (store.ScheduledAction, error)
}

// scheduleInput is the part of a scheduled action an agent sets; the
// policies take their defaults, as when POST /scheduled-actions omits
// them.
type scheduleInput struct {
	Name            string          `json:"name"`
	Description     string          `json:"description"`
	AgentID         int64           `json:"agent_id"`
	ActionType      string          `json:"action_type"`
	ActionConfig    json.RawMessage `json:"action_config"`
	ScheduleType    string          `json:"schedule_type"`
	CronExpression  string          `json:"cron_expression"`
	TimeZone        string          `json:"timezone"`
	IntervalSeconds int64           `json:"interval_seconds"`
	RunAt           string          `json:"run_at"`
	EventTrigger    json.RawMessage `json:"event_trigger"`
	MaxExecutions   int             `json:"max_executions"`
}

// scheduleTool creates a scheduled action, as POST /scheduled-actions.
func scheduleTool(d Deps) tool.Tool {
	return tool.Tool{
		Name: "gathering.schedule_create",
		Description: "Schedule an action: run_task (a background task of an agent; the calling agent when agent_id is absent), " +
			"execute_pipeline, send_notification or call_api, on a cron expression, an interval, once at run_at, or on events.",
		Input: json.RawMessage(`{"type":"object","additionalProperties":false,"required":["name","action_type","action_config","schedule_type"],"properties":{
			"name":{"type":"string","minLength":1,"maxLength":200},
			"description":{"type":"string","maxLength":5000},
			"agent_id":{"type":"integer","minimum":1,"description":"run_task: the agent that works; the calling agent when absent."},
			"action_type":{"enum":["run_task","execute_pipeline","send_notification","call_api"]},
			"action_config":{"type":"object","description":"run_task: {goal, max_steps?}; execute_pipeline: {pipeline_id, trigger_data?}; send_notification: {url, payload?, secret?}; call_api: {method, url, headers?, body?}."},
			"schedule_type":{"enum":["cron","interval","once","event"]},
			"cron_expression":{"type":"string","maxLength":200},
			"timezone":{"type":"string","maxLength":100},
			"interval_seconds":{"type":"integer","minimum":1},
			"run_at":{"type":"string","format":"date-time"},
			"event_trigger":{"type":"object","description":"event: {type, topics?}."},
			"max_executions":{"type":"integer","minimum":0}}}`),
		Output:      json.RawMessage(`{"type":"object","required":["id","name","status"]}`),
		Permissions: []tool.Permission{tool.PermManage},
		Timeout:     15 * time.Second,
		Run: func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
			var in scheduleInput
			if err := decode(input, &in); err != nil {
				return nil, err
			}
			inv, err := actor(ctx, d.Users)
			if err != nil {
				return nil, err
			}
			a, err := in.action(inv)
			if err != nil {
				return nil, err
			}
			if a, err = d.Scheduler.Create(ctx, a, inv.UserID); err != nil {
				return nil, err
			}
			out := map[string]any{"id": a.ID, "name": a.Name, "status": a.Status}
			if !a.NextRunAt.IsZero() {
				out["next_run_at"] = a.NextRunAt.UTC().Format(time.RFC3339)
			}
			return output(out)
		},
	}
}

// action is the scheduled action the input asks for; a run_task without
// an agent is the calling agent's.
func (in scheduleInput) action(inv tool.Invoker) (store.ScheduledAction, error) {
	a := store.ScheduledAction{Name: in.Name, Description: in.Description, AgentID: in.AgentID,
		ActionType: in.ActionType, ActionConfig: in.ActionConfig, ScheduleType: in.ScheduleType,
		CronExpression: in.CronExpression, TimeZone: in.TimeZone, IntervalSec: in.IntervalSeconds,
		EventTrigger: in.EventTrigger, MaxExecutions: in.MaxExecutions}
	if a.AgentID == 0 && a.ActionType == store.ActionRunTask {
		a.AgentID = inv.AgentID
	}
	if in.RunAt != "" {
		at, err := time.Parse(time.RFC3339, in.RunAt)
		if err != nil {
			return a, gathering.Invalid("The scheduled action is invalid.", gathering.FieldError{Field: "run_at", Message: "must be an RFC 3339 time"})
		}
		a.RunAt = at
	}
	return a, nil
}
