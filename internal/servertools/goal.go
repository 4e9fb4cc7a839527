package servertools

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/goal"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// Goals updates goals; *goal.Service is one.
type Goals interface {
	Get(ctx context.Context, id int64) (goal.Detail, error)
	Start(ctx context.Context, actor goal.Actor, id int64) (store.Goal, error)
	Pause(ctx context.Context, actor goal.Actor, id int64, reason string) (store.Goal, error)
	Resume(ctx context.Context, actor goal.Actor, id int64) (store.Goal, error)
	Complete(ctx context.Context, actor goal.Actor, id int64, summary string) (store.Goal, error)
	Fail(ctx context.Context, actor goal.Actor, id int64, reason, lessons string) (store.Goal, error)
	SetProgress(ctx context.Context, actor goal.Actor, id int64, percentage int, message string) (store.Goal, error)
}

// goalInput is what gathering.goal_update takes.
type goalInput struct {
	GoalID   int64  `json:"goal_id"`
	Action   string `json:"action"`
	Progress *int   `json:"progress"`
	Message  string `json:"message"`
}

// goalTool moves a goal's progress or status, as the /goals/{id}/…
// endpoints; an agent may only update the goals it is responsible for.
func goalTool(d Deps) tool.Tool {
	return tool.Tool{
		Name: "gathering.goal_update",
		Description: "Report progress on a goal (0-100) or move it: start, pause, resume, complete or fail. " +
			"message is the progress note, the pause or failure reason, or the completion summary. " +
			"An agent can only update its own goals; a goal with sub-goals takes its progress from them.",
		Input: json.RawMessage(`{"type":"object","additionalProperties":false,"required":["goal_id"],
			"anyOf":[{"required":["action"]},{"required":["progress"]}],"properties":{
			"goal_id":{"type":"integer","minimum":1},
			"action":{"enum":["start","pause","resume","complete","fail"]},
			"progress":{"type":"integer","minimum":0,"maximum":100},
			"message":{"type":"string","maxLength":2000}}}`),
		Output:      json.RawMessage(`{"type":"object","required":["goal_id","status","progress"]}`),
		Permissions: []tool.Permission{tool.PermManage},
		Timeout:     15 * time.Second,
		Run: func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
			var in goalInput
			if err := decode(input, &in); err != nil {
				return nil, err
			}
			inv, err := actor(ctx, d.Users)
			if err != nil {
				return nil, err
			}
			if err := ownGoal(ctx, d.Goals, in.GoalID, inv); err != nil {
				return nil, err
			}
			g, err := updateGoal(ctx, d.Goals, goal.Actor{UserID: inv.UserID, AgentID: inv.AgentID}, in)
			if err != nil {
				return nil, err
			}
			return output(map[string]any{"goal_id": g.ID, "status": g.Status, "progress": g.Progress})
		},
	}
}

// ownGoal refuses an agent another agent's goal.
func ownGoal(ctx context.Context, goals Goals, id int64, inv tool.Invoker) error {
	g, err := goals.Get(ctx, id)
	if err != nil || inv.AgentID == 0 || g.AgentID == inv.AgentID {
		return err
	}
	return gathering.Errorf(gathering.EFORBIDDEN, "The goal %d is another agent's.", id)
}

// updateGoal sets the progress, then applies the action (the input
// schema lets only the known actions through).
func updateGoal(ctx context.Context, goals Goals, a goal.Actor, in goalInput) (store.Goal, error) {
	var g store.Goal
	var err error
	if in.Progress != nil {
		if g, err = goals.SetProgress(ctx, a, in.GoalID, *in.Progress, in.Message); err != nil || in.Action == "" {
			return g, err
		}
	}
	switch in.Action {
	case "start":
		return goals.Start(ctx, a, in.GoalID)
	case "pause":
		return goals.Pause(ctx, a, in.GoalID, in.Message)
	case "resume":
		return goals.Resume(ctx, a, in.GoalID)
	case "complete":
		return goals.Complete(ctx, a, in.GoalID, in.Message)
	case "fail":
		return goals.Fail(ctx, a, in.GoalID, in.Message, "")
	}
	return g, gathering.Invalid("The goal update is invalid.", gathering.FieldError{Field: "/action", Message: "is unknown"})
}
