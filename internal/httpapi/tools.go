package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/mcp"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// writeMargin is the time a response of a tool call gets beyond the tool's
// timeout.
const writeMargin = 10 * time.Second

// executeBodyLimit lets a tool input carry a file of fsguard's maximum size
// (10 MiB) as JSON text.
const executeBodyLimit = 24 << 20

// toolRoutes are the routes of the tool registry and its executions; none
// when the API has no executor.
func (a *API) toolRoutes() []Route {
	if a.tools == nil {
		return nil
	}
	return []Route{
		{Method: "GET", Pattern: "/tools", Access: Viewer, Handler: HandlerFunc(a.listTools), Response: List[ToolResponse]{}, Tag: "tools", Summary: "Registered tools with their schemas (?skill=, ?permission=)"},
		{Method: "GET", Pattern: "/tools/executions", Access: Viewer, Handler: HandlerFunc(a.listExecutions), Response: List[tool.Execution]{}, Tag: "tools", Summary: "Tool executions, newest first (yours; admins: everyone's) (?tool=, ?status=, ?agent_id=)"},
		{Method: "GET", Pattern: "/tools/executions/{id}", Access: Viewer, Handler: HandlerFunc(a.getExecution), Response: tool.Execution{}, Tag: "tools", Summary: "One execution: status, output, error, timings"},
		{Method: "POST", Pattern: "/tools/executions/{id}/cancel", Access: Member, Handler: HandlerFunc(a.cancelExecution), Response: tool.Execution{}, Tag: "tools", Summary: "Cancel an execution that has not finished (202 while it stops on another instance)"},
		{Method: "POST", Pattern: "/tools/executions/{id}/confirm", Access: Member, Handler: HandlerFunc(a.decideExecution(true)), Response: tool.Execution{}, Tag: "tools", Summary: "Confirm a call of a dangerous tool"},
		{Method: "POST", Pattern: "/tools/executions/{id}/deny", Access: Member, Handler: HandlerFunc(a.decideExecution(false)), Response: tool.Execution{}, Tag: "tools", Summary: "Deny a call of a dangerous tool: it never runs"},
		{Method: "GET", Pattern: "/tools/skills", Access: Viewer, Handler: HandlerFunc(a.listSkills), Response: List[SkillResponse]{}, Tag: "tools", Summary: "Skills: groups of tools that can be enabled per agent (?category=)"},
		{Method: "GET", Pattern: "/tools/skills/categories", Access: Viewer, Handler: HandlerFunc(a.skillCategories), Response: map[string]int{}, Tag: "tools", Summary: "Skill categories with their number of skills"},
		{Method: "GET", Pattern: "/tools/agents/{agent_id}", Access: Viewer, Handler: HandlerFunc(a.agentTools), Response: AgentToolsResponse{}, Tag: "tools", Summary: "Every skill with whether the agent may use it"},
		{Method: "GET", Pattern: "/tools/agents/{agent_id}/enabled", Access: Viewer, Handler: HandlerFunc(a.agentEnabledSkills), Response: AgentEnabledSkills{}, Tag: "tools", Summary: "The names of the skills enabled for an agent"},
		{Method: "PATCH", Pattern: "/tools/agents/{agent_id}/skills/{skill_name}", Access: Member, Handler: HandlerFunc(a.toggleAgentSkill), Request: SkillToggle{}, Response: AgentSkillChange{}, Tag: "tools", Summary: "Enable or disable one skill for an agent"},
		{Method: "POST", Pattern: "/tools/agents/{agent_id}/skills/bulk", Access: Member, Handler: HandlerFunc(a.bulkAgentSkills), Request: BulkSkills{}, Response: AgentSkillChange{}, Tag: "tools", Summary: "Enable or disable several skills for an agent"},
		{Method: "POST", Pattern: "/tools/agents/{agent_id}/skills/enable-all", Access: Member, Handler: HandlerFunc(a.allAgentSkills(true)), Response: AgentSkillChange{}, Tag: "tools", Summary: "Enable every skill you may grant (?category=)"},
		{Method: "POST", Pattern: "/tools/agents/{agent_id}/skills/disable-all", Access: Member, Handler: HandlerFunc(a.allAgentSkills(false)), Response: AgentSkillChange{}, Tag: "tools", Summary: "Disable every skill (?category=)"},
		{Method: "GET", Pattern: "/tools/mcp", Access: Admin, Handler: HandlerFunc(a.mcpServers), Response: List[mcp.ServerStatus]{}, Tag: "tools", Summary: "The configured MCP servers: connected or not, tools offered, last error"},
		{Method: "GET", Pattern: "/tools/{name}", Access: Viewer, Handler: HandlerFunc(a.getTool), Response: ToolResponse{}, Tag: "tools", Summary: "One tool with its schemas"},
		{Method: "POST", Pattern: "/tools/{name}/execute", Access: Viewer, Handler: HandlerFunc(a.executeTool), Request: ExecuteRequest{}, Response: tool.Execution{}, Tag: "tools", BodyLimit: executeBodyLimit, Timeout: -1,
			Summary: "Call a tool: 200 with the outcome, or 202 with an execution to follow (async tools, background calls, dangerous tools awaiting confirmation)"},
	}
}

// MCPStatus reports the sessions to MCP servers.
type MCPStatus interface {
	Status() []mcp.ServerStatus
}

func (a *API) mcpServers(w http.ResponseWriter, _ *http.Request) error {
	out := List[mcp.ServerStatus]{Items: []mcp.ServerStatus{}}
	if a.mcp != nil {
		out.Items = append(out.Items, a.mcp.Status()...)
	}
	out.Total = len(out.Items)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// ToolResponse describes one tool.
type ToolResponse struct {
	Name           string            `json:"name"`
	Skill          string            `json:"skill"`
	Description    string            `json:"description"`
	InputSchema    json.RawMessage   `json:"input_schema"`
	OutputSchema   json.RawMessage   `json:"output_schema,omitempty"`
	Permissions    []tool.Permission `json:"permissions"`
	Dangerous      bool              `json:"dangerous"`
	Async          bool              `json:"async"`
	TimeoutSeconds float64           `json:"timeout_seconds"`
	Available      bool              `json:"available"`
	Unavailable    string            `json:"unavailable_reason,omitempty"`
}

func toolResponse(t *tool.Registered) ToolResponse {
	out := ToolResponse{
		Name: t.Name, Skill: t.Skill(), Description: t.Description,
		InputSchema: t.Input, OutputSchema: t.Output,
		Permissions: cmpSlice(t.Permissions), Dangerous: t.Dangerous, Async: t.Async,
		TimeoutSeconds: t.Timeout.Seconds(), Available: true,
	}
	if t.Check != nil {
		if err := t.Check(); err != nil {
			out.Available, out.Unavailable = false, err.Error()
		}
	}
	return out
}

// cmpSlice returns s, or an empty slice for nil, so JSON shows [].
func cmpSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (a *API) listTools(w http.ResponseWriter, r *http.Request) error {
	skill, perm := r.URL.Query().Get("skill"), tool.Permission(r.URL.Query().Get("permission"))
	if perm != "" && !perm.Valid() {
		return gathering.Invalid("The query is invalid.", gathering.FieldError{Field: "permission", Message: "must be one of fs.read, fs.write, net, exec, git, manage, admin"})
	}
	out := List[ToolResponse]{Items: []ToolResponse{}}
	for _, t := range a.tools.Registry().List() {
		if (skill == "" || t.Skill() == skill) && (perm == "" || slices.Contains(t.Permissions, perm)) {
			out.Items = append(out.Items, toolResponse(t))
		}
	}
	out.Total = len(out.Items)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getTool(w http.ResponseWriter, r *http.Request) error {
	t, ok := a.tools.Registry().Get(r.PathValue("name"))
	if !ok {
		return gathering.Errorf(gathering.ENOTFOUND, "The tool %q does not exist.", r.PathValue("name"))
	}
	writeJSON(w, http.StatusOK, toolResponse(t))
	return nil
}

// ExecuteRequest is the body of POST /tools/{name}/execute.
type ExecuteRequest struct {
	Input      json.RawMessage `json:"input,omitempty" doc:"The tool input, checked against its input schema; {} when absent."`
	AgentID    int64           `json:"agent_id,omitempty" doc:"Call as this agent: its enabled skills decide (members and admins only)."`
	Background bool            `json:"background,omitempty" doc:"Answer 202 at once and run in the background."`
}

func (a *API) executeTool(w http.ResponseWriter, r *http.Request) error {
	var req ExecuteRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	p, _ := principal(r.Context())
	caller, err := a.toolCaller(r, p, req.AgentID)
	if err != nil {
		return err
	}
	if t, ok := a.tools.Registry().Get(r.PathValue("name")); ok {
		// A call answered when it ends may outlast the server's write
		// timeout: the response gets the tool's own limit, and a margin.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(t.Timeout + writeMargin))
	}
	e, err := a.tools.Execute(r.Context(), tool.Request{
		Tool: r.PathValue("name"), Input: req.Input, Caller: caller,
		UserID: p.UserID, AgentID: req.AgentID, Background: req.Background,
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if !e.Status.Final() {
		status = http.StatusAccepted
		w.Header().Set("Location", "/tools/executions/"+e.ID)
	}
	writeJSON(w, status, tool.View(e))
	return nil
}

// toolCaller is the user, or the agent the user calls as.
func (a *API) toolCaller(r *http.Request, p auth.Principal, agentID int64) (tool.Caller, error) {
	if agentID == 0 {
		return tool.UserCaller(p.Role), nil
	}
	if agentID < 0 {
		return tool.Caller{}, gathering.Invalid("The request body is invalid.", gathering.FieldError{Field: "agent_id", Message: "must be a positive agent id"})
	}
	if !p.Role.AtLeast(gathering.RoleMember) {
		return tool.Caller{}, gathering.Errorf(gathering.EFORBIDDEN, "Viewers may not call tools as an agent.")
	}
	if _, err := a.store.AgentGet(r.Context(), agentID); err != nil {
		return tool.Caller{}, err
	}
	skills, err := a.store.AgentSkills(r.Context(), agentID)
	if err != nil {
		return tool.Caller{}, err
	}
	return tool.AgentCaller(skills...), nil
}

func (a *API) listExecutions(w http.ResponseWriter, r *http.Request) error {
	f, err := executionFilter(r)
	if err != nil {
		return err
	}
	if p, _ := principal(r.Context()); p.Role != gathering.RoleAdmin {
		f.UserID = p.UserID
	}
	execs, total, err := a.store.ToolExecutionList(r.Context(), f)
	if err != nil {
		return err
	}
	out := List[tool.Execution]{Items: make([]tool.Execution, 0, len(execs)), Total: total}
	for _, e := range execs {
		out.Items = append(out.Items, tool.View(e))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func executionFilter(r *http.Request) (store.ToolExecutionFilter, error) {
	pg, err := page(r)
	if err != nil {
		return store.ToolExecutionFilter{}, err
	}
	q := r.URL.Query()
	f := store.ToolExecutionFilter{Page: pg, Tool: q.Get("tool"), Status: store.ToolExecutionStatus(q.Get("status"))}
	var fields []gathering.FieldError
	if f.Status != "" && !validStatus(f.Status) {
		fields = append(fields, gathering.FieldError{Field: "status", Message: "must be pending, running, awaiting_confirmation, succeeded, failed, cancelled or timed_out"})
	}
	f.AgentID = queryAgentID(q, &fields)
	if len(fields) > 0 {
		return f, gathering.Invalid("The query is invalid.", fields...)
	}
	return f, nil
}

func validStatus(s store.ToolExecutionStatus) bool {
	switch s {
	case store.ToolPending, store.ToolRunning, store.ToolAwaitingConfirmation:
		return true
	}
	return s.Final()
}

// execution loads an execution the caller may see: their own, or any for
// an administrator. Another user's is answered as not found.
func (a *API) execution(r *http.Request) (store.ToolExecution, error) {
	e, err := a.tools.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return e, err
	}
	if p, _ := principal(r.Context()); p.Role != gathering.RoleAdmin && e.UserID != p.UserID {
		return store.ToolExecution{}, gathering.Errorf(gathering.ENOTFOUND, "No execution %q.", r.PathValue("id"))
	}
	return e, nil
}

func (a *API) getExecution(w http.ResponseWriter, r *http.Request) error {
	e, err := a.execution(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tool.View(e))
	return nil
}

func (a *API) cancelExecution(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.execution(r); err != nil {
		return err
	}
	e, err := a.tools.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeExecution(w, e, e.Status.Final())
	return nil
}

func (a *API) decideExecution(approve bool) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := a.execution(r); err != nil {
			return err
		}
		p, _ := principal(r.Context())
		e, err := a.tools.Decide(r.Context(), r.PathValue("id"), tool.UserCaller(p.Role), p.UserID, approve)
		if err != nil {
			return err
		}
		writeExecution(w, e, e.Status != store.ToolAwaitingConfirmation)
		return nil
	}
}

// writeExecution answers 200 once the execution has moved (done), 202
// while another instance still has to act on it.
func writeExecution(w http.ResponseWriter, e store.ToolExecution, done bool) {
	status := http.StatusOK
	if !done {
		status = http.StatusAccepted
	}
	writeJSON(w, status, tool.View(e))
}
