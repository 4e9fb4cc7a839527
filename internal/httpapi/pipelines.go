package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/engine"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/pipeline"
	"github.com/gathering/gathering/internal/store"
)

// pipelineBodyLimit bounds a pipeline definition (500 nodes with their
// configs).
const pipelineBodyLimit = 4 << 20

// pipelineRoutes are the pipeline definitions; their runs are in
// runRoutes.
func (a *API) pipelineRoutes() []Route {
	if a.tools == nil {
		return nil
	}
	return []Route{
		{Method: "GET", Pattern: "/pipelines", Access: Viewer, Handler: HandlerFunc(a.listPipelines), Response: List[PipelineResponse]{}, Tag: "pipelines", Summary: "Pipelines (?status=draft|active|paused)"},
		{Method: "POST", Pattern: "/pipelines", Access: Member, Handler: HandlerFunc(a.createPipeline), Request: PipelineRequest{}, Response: PipelineResponse{}, Status: http.StatusCreated, BodyLimit: pipelineBodyLimit, Tag: "pipelines", Summary: "Create a pipeline (a draft may be invalid; an active one may not)"},
		{Method: "GET", Pattern: "/pipelines/{id}", Access: Viewer, Handler: HandlerFunc(a.getPipeline), Response: PipelineResponse{}, Tag: "pipelines", Summary: "One pipeline, its definition as it was saved"},
		{Method: "PUT", Pattern: "/pipelines/{id}", Access: Member, Handler: HandlerFunc(a.updatePipeline), Request: PipelineRequest{}, Response: PipelineResponse{}, BodyLimit: pipelineBodyLimit, Tag: "pipelines", Summary: "Replace a pipeline (409 when version is stale)"},
		{Method: "DELETE", Pattern: "/pipelines/{id}", Access: Member, Handler: HandlerFunc(a.deletePipeline), Status: http.StatusNoContent, Tag: "pipelines", Summary: "Delete a pipeline"},
		{Method: "POST", Pattern: "/pipelines/{id}/validate", Access: Viewer, Handler: HandlerFunc(a.validatePipeline), Response: ValidationResponse{}, Tag: "pipelines", Summary: "Every problem of the definition at once"},
		{Method: "POST", Pattern: "/pipelines/{id}/activate", Access: Member, Handler: HandlerFunc(a.setPipelineStatus(store.PipelineActive)), Response: PipelineResponse{}, Tag: "pipelines", Summary: "Activate a valid pipeline (422 with the problems otherwise)"},
		{Method: "POST", Pattern: "/pipelines/{id}/pause", Access: Member, Handler: HandlerFunc(a.setPipelineStatus(store.PipelinePaused)), Response: PipelineResponse{}, Tag: "pipelines", Summary: "Pause a pipeline"},
		{Method: "POST", Pattern: "/pipelines/{id}/toggle", Access: Member, Handler: HandlerFunc(a.togglePipeline), Response: PipelineResponse{}, Tag: "pipelines", Summary: "Activate a paused or draft pipeline, pause an active one"},
	}
}

// PipelineRequest creates or replaces a pipeline. nodes, edges and settings
// are stored exactly as sent.
type PipelineRequest struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Status      string          `json:"status,omitempty" enum:"draft,active,paused" doc:"draft when absent"`
	Nodes       json.RawMessage `json:"nodes" doc:"[{id, type, name, config, retry?, timeout_seconds?, on_error?, default?}]"`
	Edges       json.RawMessage `json:"edges,omitempty" doc:"[{id, from, to, condition?}]"`
	Settings    json.RawMessage `json:"settings,omitempty" doc:"{timeout_seconds, max_parallel, retry {max_attempts, initial_seconds, multiplier, max_seconds}}"`
	Version     int64           `json:"version,omitempty" doc:"PUT: the version you read; 409 when it changed since."`
}

// Validate implements validator.
func (q PipelineRequest) Validate() error {
	var fields []gathering.FieldError
	if n := len([]rune(q.Name)); n < 1 || n > 200 {
		fields = append(fields, gathering.FieldError{Field: "name", Message: "must be 1 to 200 characters"})
	}
	if len([]rune(q.Description)) > 5000 {
		fields = append(fields, gathering.FieldError{Field: "description", Message: "at most 5000 characters"})
	}
	switch store.PipelineStatus(q.Status) {
	case "", store.PipelineDraft, store.PipelineActive, store.PipelinePaused:
	default:
		fields = append(fields, gathering.FieldError{Field: "status", Message: "must be draft, active or paused"})
	}
	if len(q.Nodes) == 0 {
		fields = append(fields, gathering.FieldError{Field: "nodes", Message: "is required"})
	}
	if len(fields) > 0 {
		return gathering.Invalid("The pipeline is invalid.", fields...)
	}
	return nil
}

// PipelineResponse is a stored pipeline.
type PipelineResponse struct {
	ID          int64           `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Status      string          `json:"status" enum:"draft,active,paused"`
	Nodes       json.RawMessage `json:"nodes"`
	Edges       json.RawMessage `json:"edges"`
	Settings    json.RawMessage `json:"settings"`
	Version     int64           `json:"version"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

func pipelineResponse(p store.Pipeline) PipelineResponse {
	return PipelineResponse{ID: p.ID, Name: p.Name, Description: p.Description, Status: string(p.Status),
		Nodes: p.Nodes, Edges: p.Edges, Settings: p.Settings, Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// ValidationResponse lists a definition's problems.
type ValidationResponse struct {
	Valid  bool               `json:"valid"`
	Errors []pipeline.Problem `json:"errors"`
}

// problems validates a stored definition against the agents and tools
// that exist now, with the engine's own check: what the API accepts is
// what the engine runs.
func (a *API) problems(ctx context.Context, p store.Pipeline) []pipeline.Problem {
	return engine.Check(ctx, a.store, a.tools.Registry(), p)
}

// invalidPipeline is the 422 answering an activation or run of an invalid
// definition; each problem becomes a field error named after its node or
// edge ("nodes/fetch/config/task", "edges/e1/condition"). refused says
// what the definition cannot be: "activated", "run".
func invalidPipeline(refused string, problems []pipeline.Problem) error {
	fields := make([]gathering.FieldError, 0, len(problems))
	for _, p := range problems {
		fields = append(fields, gathering.FieldError{Field: p.Path(), Message: p.Message})
	}
	return gathering.Invalid("The pipeline definition is invalid; it may be saved as a draft but not "+refused+".", fields...)
}

func (a *API) listPipelines(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	status := store.PipelineStatus(r.URL.Query().Get("status"))
	ps, total, err := a.store.PipelineList(r.Context(), status, pg)
	if err != nil {
		return err
	}
	out := List[PipelineResponse]{Items: make([]PipelineResponse, 0, len(ps)), Total: total}
	for _, p := range ps {
		out.Items = append(out.Items, pipelineResponse(p))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getPipeline(w http.ResponseWriter, r *http.Request) error {
	p, err := a.pathPipeline(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pipelineResponse(p))
	return nil
}

func (a *API) pathPipeline(r *http.Request) (store.Pipeline, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return store.Pipeline{}, err
	}
	return a.store.PipelineGet(r.Context(), id)
}

// fromRequest fills a pipeline from a request; status stays when absent.
func fromRequest(p store.Pipeline, q PipelineRequest) store.Pipeline {
	p.Name, p.Description, p.Nodes = q.Name, q.Description, q.Nodes
	p.Edges, p.Settings = orJSON(q.Edges, "[]"), orJSON(q.Settings, "{}")
	if q.Status != "" {
		p.Status = store.PipelineStatus(q.Status)
	}
	return p
}

func orJSON(raw json.RawMessage, empty string) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage(empty)
	}
	return raw
}

// checkRunnable refuses an active pipeline whose definition is invalid.
func (a *API) checkRunnable(ctx context.Context, p store.Pipeline) error {
	if p.Status != store.PipelineActive {
		return nil
	}
	if problems := a.problems(ctx, p); len(problems) > 0 {
		return invalidPipeline("activated", problems)
	}
	return nil
}

func (a *API) createPipeline(w http.ResponseWriter, r *http.Request) error {
	var q PipelineRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	now := time.Now()
	p := fromRequest(store.Pipeline{Status: store.PipelineDraft, CreatedBy: principalID(r), CreatedAt: now, UpdatedAt: now}, q)
	if err := a.checkRunnable(r.Context(), p); err != nil {
		return err
	}
	p, err := a.store.PipelineCreate(r.Context(), p)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/pipelines/"+strconv.FormatInt(p.ID, 10))
	writeJSON(w, http.StatusCreated, pipelineResponse(p))
	return nil
}

func (a *API) updatePipeline(w http.ResponseWriter, r *http.Request) error {
	var q PipelineRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	old, err := a.pathPipeline(r)
	if err != nil {
		return err
	}
	p := fromRequest(old, q)
	if q.Version != 0 {
		p.Version = q.Version
	}
	p.UpdatedAt = time.Now()
	if err := a.checkRunnable(r.Context(), p); err != nil {
		return err
	}
	if p, err = a.store.PipelineUpdate(r.Context(), p); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pipelineResponse(p))
	return nil
}

func (a *API) deletePipeline(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.checkNoRuns(r.Context(), id); err != nil {
		return err
	}
	if err := a.store.PipelineDelete(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// checkNoRuns refuses to delete a pipeline whose runs are not finished:
// deleting it would delete them under the instance executing them.
func (a *API) checkNoRuns(ctx context.Context, id int64) error {
	n, err := a.store.RunCountUnfinished(ctx, id)
	switch {
	case err != nil:
		return err
	case n == 1:
		return gathering.Errorf(gathering.ECONFLICT, "The pipeline has 1 unfinished run; cancel it first.")
	case n > 1:
		return gathering.Errorf(gathering.ECONFLICT, "The pipeline has %d unfinished runs; cancel them first.", n)
	}
	return nil
}

func (a *API) validatePipeline(w http.ResponseWriter, r *http.Request) error {
	p, err := a.pathPipeline(r)
	if err != nil {
		return err
	}
	problems := a.problems(r.Context(), p)
	writeJSON(w, http.StatusOK, ValidationResponse{Valid: len(problems) == 0, Errors: cmpSlice(problems)})
	return nil
}

func (a *API) setPipelineStatus(status store.PipelineStatus) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := a.pathPipeline(r)
		if err != nil {
			return err
		}
		return a.changeStatus(w, r, p, status)
	}
}

func (a *API) togglePipeline(w http.ResponseWriter, r *http.Request) error {
	p, err := a.pathPipeline(r)
	if err != nil {
		return err
	}
	next := store.PipelineActive
	if p.Status == store.PipelineActive {
		next = store.PipelinePaused
	}
	return a.changeStatus(w, r, p, next)
}

// changeStatus moves a pipeline to status; activation requires a valid
// definition.
func (a *API) changeStatus(w http.ResponseWriter, r *http.Request, p store.Pipeline, status store.PipelineStatus) error {
	p.Status, p.UpdatedAt = status, time.Now()
	if err := a.checkRunnable(r.Context(), p); err != nil {
		return err
	}
	p, err := a.store.PipelineUpdate(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pipelineResponse(p))
	return nil
}
