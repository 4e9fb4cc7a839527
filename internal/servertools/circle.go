package servertools

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/gathering/gathering/internal/circle"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// Circles creates circle tasks; *circle.Service is one.
type Circles interface {
	MemberAgentIDs(ctx context.Context, circle string) ([]int64, error)
	CreateTask(ctx context.Context, circleName string, n circle.NewTask) (store.CircleTask, error)
}

// circleTaskTool creates a task in a circle, as POST /circles/{name}/tasks;
// an agent may only ask the circles it belongs to.
func circleTaskTool(d Deps) tool.Tool {
	return tool.Tool{
		Name: "gathering.circle_task_create",
		Description: "Create a task in a circle (a team of agents). With auto-routing the circle assigns it to the member " +
			"whose competencies fit best. An agent can only create tasks in circles it is a member of.",
		Input: json.RawMessage(`{"type":"object","additionalProperties":false,"required":["circle","title"],"properties":{
			"circle":{"type":"string","minLength":1,"maxLength":64,"description":"The circle's name."},
			"title":{"type":"string","minLength":1,"maxLength":200},
			"description":{"type":"string","maxLength":20000},
			"required_competencies":{"type":"array","maxItems":20,"items":{"type":"string","minLength":1,"maxLength":50}},
			"priority":{"oneOf":[{"type":"integer","minimum":1,"maximum":10},{"enum":["low","medium","high","critical"]}]}}}`),
		Output:      json.RawMessage(`{"type":"object","required":["task_id","circle","status"]}`),
		Permissions: []tool.Permission{tool.PermManage},
		Timeout:     15 * time.Second,
		Run: func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
			var in struct {
				Circle               string          `json:"circle"`
				Title                string          `json:"title"`
				Description          string          `json:"description"`
				RequiredCompetencies []string        `json:"required_competencies"`
				Priority             json.RawMessage `json:"priority"`
			}
			if err := decode(input, &in); err != nil {
				return nil, err
			}
			inv, err := actor(ctx, d.Users)
			if err != nil {
				return nil, err
			}
			if err := memberOf(ctx, d.Circles, in.Circle, inv); err != nil {
				return nil, err
			}
			priority, err := circle.ParsePriority(in.Priority)
			if err != nil {
				return nil, err
			}
			t, err := d.Circles.CreateTask(ctx, in.Circle, circle.NewTask{Title: in.Title, Description: in.Description,
				RequiredCompetencies: in.RequiredCompetencies, Priority: priority, CreatedBy: inv.UserID})
			if err != nil {
				return nil, err
			}
			out := map[string]any{"task_id": t.ID, "circle": in.Circle, "status": t.Status}
			if t.AssignedAgentID != 0 {
				out["assigned_agent_id"] = t.AssignedAgentID
			}
			return output(out)
		},
	}
}

// memberOf refuses an agent that is not a member of the circle; people
// are not members and pass.
func memberOf(ctx context.Context, circles Circles, name string, inv tool.Invoker) error {
	if inv.AgentID == 0 {
		return nil
	}
	ids, err := circles.MemberAgentIDs(ctx, name)
	if err != nil {
		return err
	}
	if !slices.Contains(ids, inv.AgentID) {
		return gathering.Errorf(gathering.EFORBIDDEN, "The agent is not a member of the circle %q.", name)
	}
	return nil
}
