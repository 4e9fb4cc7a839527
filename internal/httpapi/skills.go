package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// SkillResponse describes one skill.
type SkillResponse struct {
	Name                string            `json:"name"`
	DisplayName         string            `json:"display_name"`
	Description         string            `json:"description"`
	Category            string            `json:"category"`
	RequiredPermissions []tool.Permission `json:"required_permissions"`
	IsDangerous         bool              `json:"is_dangerous"`
	Tools               []string          `json:"tools"`
	ToolsCount          int               `json:"tools_count"`
}

func skillResponse(s tool.Skill) SkillResponse {
	return SkillResponse{
		Name: s.Name, DisplayName: s.DisplayName, Description: s.Description, Category: s.Category,
		RequiredPermissions: cmpSlice(s.Permissions), IsDangerous: s.Dangerous, Tools: s.Tools, ToolsCount: len(s.Tools),
	}
}

// skills returns the registered skills of a category ("" for all).
func (a *API) skills(category string) []tool.Skill {
	all := a.tools.Registry().Skills()
	if category == "" {
		return all
	}
	return slices.DeleteFunc(all, func(s tool.Skill) bool { return s.Category != category })
}

func (a *API) listSkills(w http.ResponseWriter, r *http.Request) error {
	out := List[SkillResponse]{Items: []SkillResponse{}}
	for _, s := range a.skills(r.URL.Query().Get("category")) {
		out.Items = append(out.Items, skillResponse(s))
	}
	out.Total = len(out.Items)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) skillCategories(w http.ResponseWriter, _ *http.Request) error {
	out := map[string]int{}
	for _, s := range a.skills("") {
		out[s.Category]++
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// AgentToolsResponse is every skill with whether an agent may use it.
type AgentToolsResponse struct {
	AgentID      int64            `json:"agent_id"`
	AgentName    string           `json:"agent_name"`
	Tools        []AgentSkillInfo `json:"tools"`
	EnabledCount int              `json:"enabled_count"`
	TotalCount   int              `json:"total_count"`
}

// AgentSkillInfo is one skill as an agent has it.
type AgentSkillInfo struct {
	SkillName           string            `json:"skill_name"`
	SkillDisplayName    string            `json:"skill_display_name"`
	SkillCategory       string            `json:"skill_category"`
	RequiredPermissions []tool.Permission `json:"required_permissions"`
	IsDangerous         bool              `json:"is_dangerous"`
	IsEnabled           bool              `json:"is_enabled"`
}

// agentSkills loads the agent of the path and the skills enabled for it.
func (a *API) agentSkills(r *http.Request) (store.Agent, []string, error) {
	id, err := pathID(r, "agent_id")
	if err != nil {
		return store.Agent{}, nil, err
	}
	ag, err := a.store.AgentGet(r.Context(), id)
	if err != nil {
		return ag, nil, err
	}
	enabled, err := a.store.AgentSkills(r.Context(), id)
	return ag, enabled, err
}

func (a *API) agentTools(w http.ResponseWriter, r *http.Request) error {
	ag, enabled, err := a.agentSkills(r)
	if err != nil {
		return err
	}
	out := AgentToolsResponse{AgentID: ag.ID, AgentName: ag.Name, Tools: []AgentSkillInfo{}}
	for _, s := range a.skills("") {
		on := slices.Contains(enabled, s.Name)
		out.Tools = append(out.Tools, AgentSkillInfo{
			SkillName: s.Name, SkillDisplayName: s.DisplayName, SkillCategory: s.Category,
			RequiredPermissions: cmpSlice(s.Permissions), IsDangerous: s.Dangerous, IsEnabled: on,
		})
		if on {
			out.EnabledCount++
		}
	}
	out.TotalCount = len(out.Tools)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// AgentEnabledSkills lists the skills enabled for an agent.
type AgentEnabledSkills struct {
	AgentID       int64    `json:"agent_id"`
	EnabledSkills []string `json:"enabled_skills"`
}

func (a *API) agentEnabledSkills(w http.ResponseWriter, r *http.Request) error {
	ag, enabled, err := a.agentSkills(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AgentEnabledSkills{AgentID: ag.ID, EnabledSkills: cmpSlice(enabled)})
	return nil
}

// SkillToggle is the body of PATCH /tools/agents/{agent_id}/skills/{skill_name}.
type SkillToggle struct {
	IsEnabled *bool `json:"is_enabled"`
}

// Validate implements validator.
func (t SkillToggle) Validate() error {
	if t.IsEnabled == nil {
		return gathering.Invalid("The request body is invalid.", gathering.FieldError{Field: "is_enabled", Message: "is required"})
	}
	return nil
}

// BulkSkills is the body of POST /tools/agents/{agent_id}/skills/bulk.
type BulkSkills struct {
	SkillNames []string `json:"skill_names"`
	IsEnabled  *bool    `json:"is_enabled"`
}

// maxBulkSkills bounds one bulk change.
const maxBulkSkills = 100

// Validate implements validator.
func (b BulkSkills) Validate() error {
	var fields []gathering.FieldError
	if len(b.SkillNames) == 0 || len(b.SkillNames) > maxBulkSkills {
		fields = append(fields, gathering.FieldError{Field: "skill_names", Message: "must list 1 to 100 skills"})
	}
	if b.IsEnabled == nil {
		fields = append(fields, gathering.FieldError{Field: "is_enabled", Message: "is required"})
	}
	if len(fields) > 0 {
		return gathering.Invalid("The request body is invalid.", fields...)
	}
	return nil
}

// AgentSkillChange reports a change of an agent's skills.
type AgentSkillChange struct {
	AgentID       int64    `json:"agent_id"`
	Skills        []string `json:"skills"`
	IsEnabled     bool     `json:"is_enabled"`
	EnabledSkills []string `json:"enabled_skills"`
}

func (a *API) toggleAgentSkill(w http.ResponseWriter, r *http.Request) error {
	var req SkillToggle
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	return a.changeAgentSkills(w, r, []string{r.PathValue("skill_name")}, *req.IsEnabled)
}

func (a *API) bulkAgentSkills(w http.ResponseWriter, r *http.Request) error {
	var req BulkSkills
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	return a.changeAgentSkills(w, r, req.SkillNames, *req.IsEnabled)
}

// allAgentSkills enables every skill of ?category= the caller may grant, or
// disables every one of them.
func (a *API) allAgentSkills(enable bool) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, _ := principal(r.Context())
		var names []string
		for _, s := range a.skills(r.URL.Query().Get("category")) {
			if !enable || p.Role.AtLeast(s.RequiredRole()) {
				names = append(names, s.Name)
			}
		}
		return a.changeAgentSkills(w, r, names, enable)
	}
}

// changeAgentSkills enables or disables known skills for an agent. Granting
// a skill needs the role its tools require (admin for admin tools).
func (a *API) changeAgentSkills(w http.ResponseWriter, r *http.Request, names []string, enable bool) error {
	ag, _, err := a.agentSkills(r)
	if err != nil {
		return err
	}
	id := ag.ID
	if err := a.checkGrant(r, names, enable, "skill_names"); err != nil {
		return err
	}
	if enable {
		err = a.store.AgentSkillsEnable(r.Context(), id, names, time.Now())
	} else if len(names) > 0 {
		err = a.store.AgentSkillsDisable(r.Context(), id, names)
	}
	if err != nil {
		return err
	}
	_, enabled, err := a.agentSkills(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AgentSkillChange{AgentID: id, Skills: cmpSlice(names), IsEnabled: enable, EnabledSkills: cmpSlice(enabled)})
	return nil
}

// checkGrant refuses unknown skills (404 for one named in the path, 422
// naming each entry of the list field) and skills the caller may not grant
// (403).
func (a *API) checkGrant(r *http.Request, names []string, enable bool, field string) error {
	known := map[string]tool.Skill{}
	for _, s := range a.skills("") {
		known[s.Name] = s
	}
	p, _ := principal(r.Context())
	var fields []gathering.FieldError
	for i, n := range names {
		s, ok := known[n]
		switch {
		case !ok && len(names) == 1 && r.PathValue("skill_name") != "":
			return gathering.Errorf(gathering.ENOTFOUND, "The skill %q does not exist.", n)
		case !ok:
			fields = append(fields, gathering.FieldError{Field: fmt.Sprintf("%s[%d]", field, i), Message: "is not a known skill"})
		case enable && !p.Role.AtLeast(s.RequiredRole()):
			return gathering.Errorf(gathering.EFORBIDDEN, "Only an administrator may enable the skill %q.", n)
		}
	}
	if len(fields) > 0 {
		return gathering.Invalid("Some skills do not exist.", fields...)
	}
	return nil
}
