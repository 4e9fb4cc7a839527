package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// agentRoutes are personas, agents, chat, history and usage.
func (a *API) agentRoutes() []Route {
	if a.agents == nil {
		return nil
	}
	return []Route{
		{Method: "GET", Pattern: "/personas", Access: Viewer, Handler: HandlerFunc(a.listPersonas), Response: List[PersonaResponse]{}, Tag: "agents", Summary: "Personas (built-in ones carry is_builtin)"},
		{Method: "POST", Pattern: "/personas", Access: Member, Handler: HandlerFunc(a.createPersona), Request: PersonaRequest{}, Response: PersonaResponse{}, Status: http.StatusCreated, Tag: "agents", Summary: "Create a persona"},
		{Method: "GET", Pattern: "/personas/{id}", Access: Viewer, Handler: HandlerFunc(a.getPersona), Response: PersonaResponse{}, Tag: "agents", Summary: "One persona"},
		{Method: "PUT", Pattern: "/personas/{id}", Access: Member, Handler: HandlerFunc(a.updatePersona), Request: PersonaRequest{}, Response: PersonaResponse{}, Tag: "agents", Summary: "Replace a persona (built-in ones: administrators only)"},
		{Method: "DELETE", Pattern: "/personas/{id}", Access: Member, Handler: HandlerFunc(a.deletePersona), Status: http.StatusNoContent, Tag: "agents", Summary: "Delete a persona (409 when built in or used by an agent)"},
		{Method: "GET", Pattern: "/agents", Access: Viewer, Handler: HandlerFunc(a.listAgents), Response: List[AgentResponse]{}, Tag: "agents", Summary: "Agents"},
		{Method: "POST", Pattern: "/agents", Access: Member, Handler: HandlerFunc(a.createAgent), Request: AgentRequest{}, Response: AgentResponse{}, Status: http.StatusCreated, Tag: "agents", Summary: "Create an agent from a persona id or an inline persona"},
		{Method: "GET", Pattern: "/agents/{id}", Access: Viewer, Handler: HandlerFunc(a.getAgent), Response: AgentResponse{}, Tag: "agents", Summary: "One agent"},
		{Method: "PATCH", Pattern: "/agents/{id}", Access: Member, Handler: HandlerFunc(a.patchAgent), Request: AgentPatch{}, Response: AgentResponse{}, Tag: "agents", Summary: "Change an agent's settings"},
		{Method: "DELETE", Pattern: "/agents/{id}", Access: Member, Handler: HandlerFunc(a.deleteAgent), Status: http.StatusNoContent, Tag: "agents", Summary: "Delete an agent with its sessions, history and memories (usage records stay)"},
		{Method: "POST", Pattern: "/agents/{id}/chat", Access: Member, Handler: HandlerFunc(a.chat), Request: ChatRequest{}, Response: agent.ChatResult{}, Timeout: -1, Tag: "agents",
			Summary: "One chat turn; with Accept: text/event-stream, frames start, token, tool_call, tool_result, done, error"},
		{Method: "GET", Pattern: "/ws/chat/{agent_id}", Access: Member, WebSocket: a.serveChat, Tag: "agents", Summary: "Chat over a WebSocket: send {message, session_id?, …}, receive the turn's frames"},
		{Method: "GET", Pattern: "/agents/{id}/history", Access: Viewer, Handler: HandlerFunc(a.history), Response: List[MessageResponse]{}, Tag: "agents", Summary: "Messages of a session (?session_id=; administrators may omit it for all)"},
		{Method: "GET", Pattern: "/health/checks", Access: Viewer, Handler: HandlerFunc(a.checks), Response: Checks{}, Tag: "health", Summary: "The database and each provider's circuit breaker (closed, open, half-open)"},
		{Method: "GET", Pattern: "/usage", Access: Member, Handler: HandlerFunc(a.usage), Response: List[UsageResponse]{}, Tag: "agents", Summary: "Provider usage totals (?group_by=agent|model|day, ?since=, ?until= RFC 3339)"},
	}
}

// AgentRequest is the body of POST /agents.
type AgentRequest struct {
	Name         string          `json:"name"`
	PersonaID    int64           `json:"persona_id,omitempty" doc:"An existing persona; or give persona."`
	Persona      *PersonaRequest `json:"persona,omitempty" doc:"An inline persona, created with the agent."`
	Provider     string          `json:"provider"`
	Model        string          `json:"model" doc:"A model of the provider, by name or alias."`
	Temperature  float64         `json:"temperature,omitempty"`
	MaxTokens    int             `json:"max_tokens,omitempty"`
	Skills       []string        `json:"skills,omitempty" doc:"Skills to enable (see /tools/skills)."`
	Competencies []string        `json:"competencies,omitempty"`
	CanReview    bool            `json:"can_review,omitempty"`
}

// Validate implements validator.
func (q AgentRequest) Validate() error {
	var fields []gathering.FieldError
	add := func(f, m string) { fields = append(fields, gathering.FieldError{Field: f, Message: m}) }
	if n := len([]rune(q.Name)); n < 1 || n > 100 {
		add("name", "must be 1 to 100 characters")
	}
	switch {
	case (q.PersonaID == 0) == (q.Persona == nil):
		add("persona_id", "give exactly one of persona_id and persona")
	case q.Persona != nil:
		fields = append(fields, q.Persona.problems("persona.")...)
	}
	if q.Provider == "" || q.Model == "" {
		add("model", "provider and model are required")
	}
	fields = append(fields, settingsProblems(q.Temperature, q.MaxTokens, q.Competencies)...)
	if len(fields) > 0 {
		return gathering.Invalid("The agent is invalid.", fields...)
	}
	return nil
}

func settingsProblems(temperature float64, maxTokens int, competencies []string) []gathering.FieldError {
	var fields []gathering.FieldError
	if temperature < 0 || temperature > 2 {
		fields = append(fields, gathering.FieldError{Field: "temperature", Message: "must be between 0 and 2"})
	}
	if maxTokens < 0 || maxTokens > 1_000_000 {
		fields = append(fields, gathering.FieldError{Field: "max_tokens", Message: "must be between 0 and 1000000"})
	}
	if len(competencies) > 50 {
		fields = append(fields, gathering.FieldError{Field: "competencies", Message: "at most 50 entries"})
	}
	return fields
}

// AgentResponse is an agent.
type AgentResponse struct {
	ID           int64             `json:"id"`
	Name         string            `json:"name"`
	PersonaID    int64             `json:"persona_id"`
	Provider     string            `json:"provider"`
	Model        string            `json:"model"`
	Temperature  float64           `json:"temperature"`
	MaxTokens    int               `json:"max_tokens"`
	Skills       []string          `json:"skills"`
	Competencies []string          `json:"competencies"`
	CanReview    bool              `json:"can_review"`
	Status       store.AgentStatus `json:"status" enum:"idle,busy"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

func (a *API) agentResponse(ctx context.Context, ag store.Agent) (AgentResponse, error) {
	skills, err := a.store.AgentSkills(ctx, ag.ID)
	return AgentResponse{ID: ag.ID, Name: ag.Name, PersonaID: ag.PersonaID, Provider: ag.Provider, Model: ag.Model,
		Temperature: ag.Temperature, MaxTokens: ag.MaxTokens, Skills: cmpSlice(skills), Competencies: cmpSlice(ag.Competencies),
		CanReview: ag.CanReview, Status: ag.Status, CreatedAt: ag.CreatedAt, UpdatedAt: ag.UpdatedAt}, err
}

func (a *API) writeAgent(w http.ResponseWriter, r *http.Request, status int, ag store.Agent) error {
	resp, err := a.agentResponse(r.Context(), ag)
	if err != nil {
		return err
	}
	writeJSON(w, status, resp)
	return nil
}

func (a *API) listAgents(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	ags, total, err := a.store.AgentList(r.Context(), pg)
	if err != nil {
		return err
	}
	out := List[AgentResponse]{Items: make([]AgentResponse, 0, len(ags)), Total: total}
	for _, ag := range ags {
		resp, err := a.agentResponse(r.Context(), ag)
		if err != nil {
			return err
		}
		out.Items = append(out.Items, resp)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getAgent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ag, err := a.store.AgentGet(r.Context(), id)
	if err != nil {
		return err
	}
	return a.writeAgent(w, r, http.StatusOK, ag)
}

// checkModel refuses a provider or model the catalog does not have, and
// returns the model's name.
func (a *API) checkModel(ctx context.Context, provider, model string) (string, error) {
	if _, err := a.store.ProviderGet(ctx, provider); err != nil {
		return "", gathering.Invalid("The agent is invalid.", gathering.FieldError{Field: "provider", Message: "is not a known provider (see /providers)"})
	}
	m, err := a.store.ModelFind(ctx, provider, model)
	if err != nil {
		return "", gathering.Invalid("The agent is invalid.", gathering.FieldError{Field: "model", Message: "is not a model of " + provider + " (see /models)"})
	}
	return m.Name, nil
}

func (a *API) createAgent(w http.ResponseWriter, r *http.Request) error {
	var req AgentRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	model, err := a.checkModel(r.Context(), req.Provider, req.Model)
	if err != nil {
		return err
	}
	if err := a.checkGrant(r, req.Skills, true, "skills"); err != nil {
		return err
	}
	now := time.Now()
	personaID, undo, err := a.agentPersona(r.Context(), req, now)
	if err != nil {
		return err
	}
	ag, err := a.store.AgentCreate(r.Context(), store.Agent{Name: req.Name, PersonaID: personaID, Provider: req.Provider, Model: model,
		Temperature: req.Temperature, MaxTokens: req.MaxTokens, Competencies: req.Competencies, CanReview: req.CanReview,
		Status: store.AgentIdle, CreatedBy: principalID(r), CreatedAt: now, UpdatedAt: now})
	if err != nil {
		undo()
		return err
	}
	if len(req.Skills) > 0 {
		if err := a.store.AgentSkillsEnable(r.Context(), ag.ID, req.Skills, now); err != nil {
			return err
		}
	}
	w.Header().Set("Location", "/agents/"+strconv.FormatInt(ag.ID, 10))
	return a.writeAgent(w, r, http.StatusCreated, ag)
}

// agentPersona returns the persona of a new agent, creating an inline one,
// and how to remove it again if the agent cannot be created.
func (a *API) agentPersona(ctx context.Context, req AgentRequest, now time.Time) (int64, func(), error) {
	if req.Persona == nil {
		if _, err := a.store.PersonaGet(ctx, req.PersonaID); err != nil {
			return 0, nil, gathering.Invalid("The agent is invalid.", gathering.FieldError{Field: "persona_id", Message: "is not a known persona"})
		}
		return req.PersonaID, func() {}, nil
	}
	p, err := a.store.PersonaCreate(ctx, req.Persona.persona(now))
	if err != nil {
		return 0, nil, err
	}
	return p.ID, func() { _ = a.store.PersonaDelete(context.WithoutCancel(ctx), p.ID) }, nil
}

// AgentPatch is the body of PATCH /agents/{id}; absent fields stay.
type AgentPatch struct {
	Name         *string   `json:"name,omitempty"`
	PersonaID    *int64    `json:"persona_id,omitempty"`
	Provider     *string   `json:"provider,omitempty"`
	Model        *string   `json:"model,omitempty"`
	Temperature  *float64  `json:"temperature,omitempty"`
	MaxTokens    *int      `json:"max_tokens,omitempty"`
	Competencies *[]string `json:"competencies,omitempty"`
	CanReview    *bool     `json:"can_review,omitempty"`
}

func (p AgentPatch) apply(ag *store.Agent) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&ag.Name, p.Name)
	set(&ag.Provider, p.Provider)
	set(&ag.Model, p.Model)
	if p.PersonaID != nil {
		ag.PersonaID = *p.PersonaID
	}
	if p.Temperature != nil {
		ag.Temperature = *p.Temperature
	}
	if p.MaxTokens != nil {
		ag.MaxTokens = *p.MaxTokens
	}
	if p.Competencies != nil {
		ag.Competencies = *p.Competencies
	}
	if p.CanReview != nil {
		ag.CanReview = *p.CanReview
	}
}

func (a *API) patchAgent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req AgentPatch
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	ag, err := a.store.AgentGet(r.Context(), id)
	if err != nil {
		return err
	}
	req.apply(&ag)
	if fields := settingsProblems(ag.Temperature, ag.MaxTokens, ag.Competencies); len(fields) > 0 || ag.Name == "" || len([]rune(ag.Name)) > 100 {
		return gathering.Invalid("The agent is invalid.", append(fields, gathering.FieldError{Field: "name", Message: "must be 1 to 100 characters"})...)
	}
	if ag.Model, err = a.checkModel(r.Context(), ag.Provider, ag.Model); err != nil {
		return err
	}
	ag.UpdatedAt = time.Now()
	if ag, err = a.store.AgentUpdate(r.Context(), ag); err != nil {
		return err
	}
	return a.writeAgent(w, r, http.StatusOK, ag)
}

func (a *API) deleteAgent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.store.AgentDelete(r.Context(), id); err != nil {
		return err
	}
	if _, err := a.store.MemoryDeleteMatching(r.Context(), store.MemoryFilter{Scope: store.ScopeAgent, AgentID: id}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// MessageResponse is one message of a chat history.
type MessageResponse struct {
	ID         int64     `json:"id"`
	SessionID  string    `json:"session_id"`
	Role       string    `json:"role" enum:"user,assistant,tool"`
	Content    string    `json:"content"`
	ToolCalls  any       `json:"tool_calls,omitempty"`
	ToolCallID string    `json:"tool_call_id,omitempty"`
	IsError    bool      `json:"is_error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// history lists the messages of one of the caller's sessions, or of every
// session for an administrator who gives none.
func (a *API) history(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pg, err := page(r)
	if err != nil {
		return err
	}
	sessionID := r.URL.Query().Get("session_id")
	if err := a.checkSession(r, id, sessionID); err != nil {
		return err
	}
	msgs, total, err := a.store.MessageList(r.Context(), id, sessionID, pg)
	if err != nil {
		return err
	}
	out := List[MessageResponse]{Items: make([]MessageResponse, 0, len(msgs)), Total: total}
	for _, m := range msgs {
		resp := MessageResponse{ID: m.ID, SessionID: m.SessionID, Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID, IsError: m.IsError, CreatedAt: m.CreatedAt}
		if len(m.ToolCalls) > 0 {
			resp.ToolCalls = m.ToolCalls
		}
		out.Items = append(out.Items, resp)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// checkSession lets a user read only their own sessions.
func (a *API) checkSession(r *http.Request, agentID int64, sessionID string) error {
	p, _ := principal(r.Context())
	if sessionID == "" {
		if p.Role == gathering.RoleAdmin {
			return nil
		}
		return gathering.Invalid("The query is invalid.", gathering.FieldError{Field: "session_id", Message: "is required (the session_id a chat answered)"})
	}
	s, err := a.store.SessionGet(r.Context(), sessionID)
	if err != nil || s.AgentID != agentID || (s.UserID != p.UserID && p.Role != gathering.RoleAdmin) {
		return gathering.Errorf(gathering.ENOTFOUND, "No session %q of this agent.", sessionID)
	}
	return nil
}

func (a *API) usage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	group := store.UsageGroup(q.Get("group_by"))
	if group == "" {
		group = store.UsageByAgent
	}
	var fields []gathering.FieldError
	if !slices.Contains([]store.UsageGroup{store.UsageByAgent, store.UsageByModel, store.UsageByDay}, group) {
		fields = append(fields, gathering.FieldError{Field: "group_by", Message: "must be agent, model or day"})
	}
	since, f1 := queryTime(q.Get("since"), "since")
	until, f2 := queryTime(q.Get("until"), "until")
	if fields = append(append(fields, f1...), f2...); len(fields) > 0 {
		return gathering.Invalid("The query is invalid.", fields...)
	}
	totals, err := a.store.UsageTotals(r.Context(), group, since, until)
	if err != nil {
		return err
	}
	out := List[UsageResponse]{Items: make([]UsageResponse, 0, len(totals)), Total: len(totals)}
	for _, t := range totals {
		out.Items = append(out.Items, UsageResponse(t))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// UsageResponse sums the usage ledger for one group.
type UsageResponse struct {
	Key          string  `json:"key" doc:"The agent id, provider/model, or the UTC day YYYY-MM-DD."`
	Calls        int     `json:"calls"`
	Failed       int     `json:"failed"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	CachedTokens int64   `json:"cached_tokens"`
	Cost         float64 `json:"cost" doc:"US dollars."`
}

func queryTime(v, name string) (time.Time, []gathering.FieldError) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, []gathering.FieldError{{Field: name, Message: "must be an RFC 3339 time like 2026-01-31T00:00:00Z"}}
	}
	return t, nil
}
