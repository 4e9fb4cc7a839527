package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Limits of a project's fields.
const (
	maxProjectName        = 200
	maxProjectDescription = 5000
	maxProjectTags        = 20
	maxProjectTag         = 50
	projectBodyLimit      = 64 << 10
)

// projectRoutes are the projects; none without a workspace service.
func (a *API) projectRoutes() []Route {
	if a.workspace == nil {
		return nil
	}
	const tag = "projects"
	return []Route{
		{Method: "GET", Pattern: "/projects", Access: Viewer, Handler: HandlerFunc(a.listProjects), Response: List[ProjectResponse]{}, Tag: tag, Summary: "Projects by id (?status=, ?tag=)"},
		{Method: "POST", Pattern: "/projects", Access: Member, Handler: HandlerFunc(a.createProject), Request: ProjectRequest{}, Response: ProjectResponse{}, Status: http.StatusCreated, BodyLimit: projectBodyLimit, Tag: tag, Summary: "Create a project (a repository_path outside the workspace base needs an administrator)"},
		{Method: "GET", Pattern: "/projects/{id}", Access: Viewer, Handler: HandlerFunc(a.getProject), Response: ProjectResponse{}, Tag: tag, Summary: "One project, with the agents linked to it"},
		{Method: "PUT", Pattern: "/projects/{id}", Access: Member, Handler: HandlerFunc(a.updateProject), Request: ProjectRequest{}, Response: ProjectResponse{}, BodyLimit: projectBodyLimit, Tag: tag, Summary: "Replace a project (409 when version is stale)"},
		{Method: "DELETE", Pattern: "/projects/{id}", Access: Member, Handler: HandlerFunc(a.deleteProject), Status: http.StatusNoContent, Tag: tag, Summary: "Delete a project, its agent links and its activity; its files stay on disk"},
		{Method: "PUT", Pattern: "/projects/{id}/agents/{agent_id}", Access: Member, Handler: HandlerFunc(a.linkAgent(true)), Status: http.StatusNoContent, Tag: tag, Summary: "Link an agent to the project"},
		{Method: "DELETE", Pattern: "/projects/{id}/agents/{agent_id}", Access: Member, Handler: HandlerFunc(a.linkAgent(false)), Status: http.StatusNoContent, Tag: tag, Summary: "Unlink an agent from the project"},
	}
}

// ProjectRequest creates or replaces a project.
type ProjectRequest struct {
	Name           string          `json:"name" doc:"1 to 200 characters, unique (case-insensitively)."`
	Description    string          `json:"description,omitempty" doc:"At most 5000 characters."`
	RepositoryPath string          `json:"repository_path,omitempty" doc:"An existing directory the project serves, inside the workspace base unless an administrator sets it; absent: the project's own directory under the base."`
	Status         string          `json:"status,omitempty" enum:"active,archived" doc:"active when absent."`
	Tags           []string        `json:"tags,omitempty" doc:"At most 20, each 1 to 50 characters."`
	Settings       json.RawMessage `json:"settings,omitempty" doc:"A JSON object, stored as sent; {} when absent."`
	Version        int64           `json:"version,omitempty" doc:"PUT: the version you read; 409 when it changed since. Absent: the latest is replaced."`
}

// Validate checks the fields that need no lookup.
func (q ProjectRequest) Validate() error {
	var fields []gathering.FieldError
	add := func(field, format string, args ...any) {
		fields = append(fields, gathering.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if n := len([]rune(q.Name)); n < 1 || n > maxProjectName {
		add("name", "must be 1 to %d characters", maxProjectName)
	}
	if len([]rune(q.Description)) > maxProjectDescription {
		add("description", "at most %d characters", maxProjectDescription)
	}
	if q.Status != "" && q.Status != store.ProjectActive && q.Status != store.ProjectArchived {
		add("status", "must be active or archived")
	}
	if len(q.Tags) > maxProjectTags {
		add("tags", "at most %d tags", maxProjectTags)
	}
	for i, t := range q.Tags {
		if n := len([]rune(t)); n < 1 || n > maxProjectTag {
			add(fmt.Sprintf("tags/%d", i), "must be 1 to %d characters", maxProjectTag)
		}
	}
	if len(q.Settings) > 0 && !isJSONObject(q.Settings) {
		add("settings", "must be a JSON object")
	}
	if len(fields) > 0 {
		return gathering.Invalid("The project is invalid.", fields...)
	}
	return nil
}

// project is the request as a project, with its defaults, over old.
func (q ProjectRequest) project(old store.Project, now time.Time) store.Project {
	p := old
	p.Name, p.Description, p.RepositoryPath, p.Tags = q.Name, q.Description, q.RepositoryPath, q.Tags
	p.Status = q.Status
	if p.Status == "" {
		p.Status = store.ProjectActive
	}
	if p.Tags == nil {
		p.Tags = []string{}
	}
	p.Settings = q.Settings
	if len(p.Settings) == 0 {
		p.Settings = json.RawMessage("{}")
	}
	p.UpdatedAt = now
	if q.Version != 0 {
		p.Version = q.Version
	}
	return p
}

// ProjectResponse is a project.
type ProjectResponse struct {
	ID             int64           `json:"id"`
	Name           string          `json:"name"`
	Description    string          `json:"description"`
	RepositoryPath string          `json:"repository_path,omitempty"`
	Status         string          `json:"status"`
	Tags           []string        `json:"tags"`
	Settings       json.RawMessage `json:"settings"`
	AgentIDs       []int64         `json:"agent_ids,omitempty" doc:"One project: the agents linked to it."`
	CreatedBy      int64           `json:"created_by"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	Version        int64           `json:"version"`
}

func projectResponse(p store.Project) ProjectResponse {
	if p.Tags == nil {
		p.Tags = []string{}
	}
	return ProjectResponse{ID: p.ID, Name: p.Name, Description: p.Description, RepositoryPath: p.RepositoryPath,
		Status: p.Status, Tags: p.Tags, Settings: p.Settings, CreatedBy: p.CreatedBy, CreatedAt: p.CreatedAt,
		UpdatedAt: p.UpdatedAt, Version: p.Version}
}

// checkRepositoryPath refuses a repository_path the caller may not use:
// outside the workspace base unless an administrator sets it.
func (a *API) checkRepositoryPath(r *http.Request, path string) error {
	if path == "" {
		return nil
	}
	p, _ := principal(r.Context())
	if fields := a.workspace.CheckRepositoryPath(path, p.Role == gathering.RoleAdmin); len(fields) > 0 {
		return gathering.Invalid("The project is invalid.", fields...)
	}
	return nil
}

func (a *API) createProject(w http.ResponseWriter, r *http.Request) error {
	var q ProjectRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	if err := a.checkRepositoryPath(r, q.RepositoryPath); err != nil {
		return err
	}
	now := time.Now()
	p, err := a.store.ProjectCreate(r.Context(), q.project(store.Project{CreatedBy: principalID(r), CreatedAt: now}, now))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/projects/"+strconv.FormatInt(p.ID, 10))
	writeJSON(w, http.StatusCreated, projectResponse(p))
	return nil
}

func (a *API) listProjects(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	f := store.ProjectFilter{Status: r.URL.Query().Get("status"), Tag: r.URL.Query().Get("tag")}
	if f.Status != "" && !slices.Contains([]string{store.ProjectActive, store.ProjectArchived}, f.Status) {
		return gathering.Invalid("The query is invalid.", gathering.FieldError{Field: "status", Message: "must be active or archived"})
	}
	ps, total, err := a.store.ProjectList(r.Context(), f, pg)
	if err != nil {
		return err
	}
	out := List[ProjectResponse]{Items: make([]ProjectResponse, 0, len(ps)), Total: total}
	for _, p := range ps {
		out.Items = append(out.Items, projectResponse(p))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pathProject loads the project the path's {id} names.
func (a *API) pathProject(r *http.Request) (store.Project, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return store.Project{}, err
	}
	return a.store.ProjectGet(r.Context(), id)
}

func (a *API) getProject(w http.ResponseWriter, r *http.Request) error {
	p, err := a.pathProject(r)
	if err != nil {
		return err
	}
	agents, err := a.store.ProjectAgents(r.Context(), p.ID)
	if err != nil {
		return err
	}
	out := projectResponse(p)
	out.AgentIDs = agents
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) updateProject(w http.ResponseWriter, r *http.Request) error {
	var q ProjectRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	old, err := a.pathProject(r)
	if err != nil {
		return err
	}
	if q.RepositoryPath != old.RepositoryPath {
		if err := a.checkRepositoryPath(r, q.RepositoryPath); err != nil {
			return err
		}
	}
	p, err := a.store.ProjectUpdate(r.Context(), q.project(old, time.Now()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, projectResponse(p))
	return nil
}

func (a *API) deleteProject(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.store.ProjectDelete(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// linkAgent links (or unlinks) the path's agent and project.
func (a *API) linkAgent(link bool) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		projectID, err := pathID(r, "id")
		if err != nil {
			return err
		}
		agentID, err := pathID(r, "agent_id")
		if err != nil {
			return err
		}
		if link {
			err = a.store.ProjectAgentLink(r.Context(), projectID, agentID, time.Now())
		} else {
			err = a.store.ProjectAgentUnlink(r.Context(), projectID, agentID)
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
