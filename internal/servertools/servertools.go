// Package servertools holds the gathering.* tools: agents (and people)
// acting on the server itself — creating circle tasks, starting pipeline
// runs, scheduling actions and updating goals — through the same services
// and checks as the HTTP API.
//
// The tools form one skill, "gathering": an agent calls them only when
// that skill is among its enabled skills, as with every tool. Each call
// also acts for a user (the one chatting with the agent, or the caller of
// the tool API), who must be an active member or administrator: an agent
// never does what the person behind it could not.
package servertools

import (
	"context"
	"encoding/json"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/tool"
)

// Skill is the skill the tools belong to.
const Skill = "gathering"

// Users finds the user a call acts for; store.IdentityStore is one.
type Users interface {
	UserGetByID(ctx context.Context, id int64) (gathering.User, error)
}

// Deps are the services the tools act through. A nil service leaves its
// tool out.
type Deps struct {
	Users     Users
	Pipelines Pipelines
	Scheduler Scheduler
	Circles   Circles
	Goals     Goals
}

// Tools returns the gathering.* tools whose services deps provides.
func Tools(deps Deps) []tool.Tool {
	var tools []tool.Tool
	if deps.Circles != nil {
		tools = append(tools, circleTaskTool(deps))
	}
	if deps.Pipelines != nil {
		tools = append(tools, pipelineRunTool(deps))
	}
	if deps.Scheduler != nil {
		tools = append(tools, scheduleTool(deps))
	}
	if deps.Goals != nil {
		tools = append(tools, goalTool(deps))
	}
	return tools
}

// actor returns who a call acts for, refusing a user who may not change
// the server: EFORBIDDEN unless active with at least the member role.
func actor(ctx context.Context, users Users) (tool.Invoker, error) {
	inv, ok := tool.InvokerOf(ctx)
	if !ok || inv.UserID == 0 {
		return inv, gathering.Errorf(gathering.EFORBIDDEN, "The call acts for no user; gathering tools act for a member.")
	}
	u, err := users.UserGetByID(ctx, inv.UserID)
	if gathering.ErrorCode(err) == gathering.ENOTFOUND || err == nil && (!u.IsActive || !u.Role.AtLeast(gathering.RoleMember)) {
		return inv, gathering.Errorf(gathering.EFORBIDDEN, "The user this call acts for may not change the server: an active member is needed.")
	}
	return inv, err
}

// decode reads a tool's input, already checked against its schema.
func decode(input json.RawMessage, v any) error {
	if err := json.Unmarshal(input, v); err != nil {
		return gathering.Errorf(gathering.EINVALID, "The input does not match the tool: %v.", err)
	}
	return nil
}

// output encodes a tool's answer.
func output(v any) (json.RawMessage, error) { return json.Marshal(v) }
