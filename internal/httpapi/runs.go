package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/engine"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// runBodyLimit bounds a run's trigger data.
const runBodyLimit = 1 << 20

// maxCommentLength bounds the comment of an approval decision, in
// characters.
const maxCommentLength = 2000

// runRoutes are the runs of pipelines, which the engine executes; none
// without an engine. /pipelines/breakers is a static segment, which chi
// prefers to /pipelines/{id}.
func (a *API) runRoutes() []Route {
	if a.pipelines == nil {
		return nil
	}
	return []Route{
		{Method: "GET", Pattern: "/pipelines/breakers", Access: Viewer, Handler: HandlerFunc(a.listBreakers), Response: List[engine.BreakerState]{}, Tag: "pipelines", Summary: "The engine's circuit breakers, by target (tool, API host, agent provider)"},
		{Method: "POST", Pattern: "/pipelines/{id}/run", Access: Member, Handler: HandlerFunc(a.runPipeline), Request: RunRequest{}, Response: RunResponse{}, Status: http.StatusAccepted, BodyLimit: runBodyLimit, Tag: "pipelines", Summary: "Start a run: 202 with the run to follow (422 when the definition is invalid, 409 when paused)"},
		{Method: "GET", Pattern: "/pipelines/{id}/runs", Access: Viewer, Handler: HandlerFunc(a.listRuns), Response: List[RunResponse]{}, Tag: "pipelines", Summary: "A pipeline's runs, newest first (?status=)"},
		{Method: "GET", Pattern: "/pipelines/{id}/runs/{run_id}", Access: Viewer, Handler: HandlerFunc(a.getRun), Response: RunDetailResponse{}, Tag: "pipelines", Summary: "One run with its nodes' attempts, its approvals and its usage"},
		{Method: "POST", Pattern: "/pipelines/{id}/runs/{run_id}/cancel", Access: Member, Handler: HandlerFunc(a.runOperation(a.pipelines.Cancel, http.StatusOK)), Response: RunResponse{}, Tag: "pipelines", Summary: "Cancel an unfinished run and stop its nodes (409 when it finished)"},
		{Method: "POST", Pattern: "/pipelines/{id}/runs/{run_id}/retry", Access: Member, Handler: HandlerFunc(a.runOperation(a.pipelines.Retry, http.StatusAccepted)), Response: RunResponse{}, Status: http.StatusAccepted, Tag: "pipelines", Summary: "Resume a failed run from its failed nodes (409 unless it failed)"},
		{Method: "POST", Pattern: "/pipelines/{id}/runs/{run_id}/approvals/{node_id}", Access: Member, Handler: HandlerFunc(a.decideApproval), Request: DecisionRequest{}, Response: ApprovalResponse{}, Tag: "pipelines", Summary: "Approve or reject an approval node the run waits for"},
	}
}

// RunRequest is the body of POST /pipelines/{id}/run; it may be empty.
type RunRequest struct {
	TriggerData json.RawMessage `json:"trigger_data,omitempty" doc:"Any JSON: what the trigger node outputs and templates read as trigger; null when absent."`
}

// RunResponse is a pipeline run.
type RunResponse struct {
	ID              string          `json:"id"`
	PipelineID      int64           `json:"pipeline_id"`
	PipelineVersion int64           `json:"pipeline_version"`
	Status          string          `json:"status" enum:"pending,running,waiting_approval,completed,failed,cancelled,timed_out"`
	TriggerData     json.RawMessage `json:"trigger_data"`
	ErrorCode       string          `json:"error_code,omitempty"`
	Error           string          `json:"error,omitempty"`
	CreatedBy       int64           `json:"created_by"`
	CreatedAt       time.Time       `json:"created_at"`
	StartedAt       time.Time       `json:"started_at,omitzero"`
	FinishedAt      time.Time       `json:"finished_at,omitzero"`
	DurationMS      *int64          `json:"duration_ms,omitempty"`
}

func runResponse(r store.PipelineRun) RunResponse {
	return RunResponse{ID: r.ID, PipelineID: r.PipelineID, PipelineVersion: r.PipelineVersion, Status: string(r.Status),
		TriggerData: r.TriggerData, ErrorCode: r.ErrorCode, Error: r.Error, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, DurationMS: durationMS(r.StartedAt, r.FinishedAt)}
}

// durationMS is the milliseconds from start to end, or nil until both are
// known.
func durationMS(start, end time.Time) *int64 {
	if start.IsZero() || end.IsZero() {
		return nil
	}
	ms := end.Sub(start).Milliseconds()
	return &ms
}

// RunDetailResponse is a run with its nodes, approvals and usage.
type RunDetailResponse struct {
	RunResponse
	Nodes     []RunNodeResponse  `json:"nodes" doc:"Every node of the run's definition, in definition order, as its latest attempt."`
	Approvals []ApprovalResponse `json:"approvals"`
	Usage     RunUsage           `json:"usage" doc:"The sum over every attempt of every node."`
}

// RunNodeResponse is one node of a run: its latest attempt, and all of
// them. A node not yet recorded shows as pending attempt 0.
type RunNodeResponse struct {
	NodeAttemptResponse
	Attempts []NodeAttemptResponse `json:"attempts"`
}

// NodeAttemptResponse is one attempt of one node.
type NodeAttemptResponse struct {
	NodeID     string          `json:"node_id"`
	Attempt    int             `json:"attempt"`
	Status     string          `json:"status" enum:"pending,running,completed,failed,skipped,cancelled,timed_out"`
	Input      json.RawMessage `json:"input" doc:"The rendered input, secrets redacted; null when none."`
	Output     json.RawMessage `json:"output"`
	ErrorCode  string          `json:"error_code,omitempty"`
	Error      string          `json:"error,omitempty"`
	StartedAt  time.Time       `json:"started_at,omitzero"`
	FinishedAt time.Time       `json:"finished_at,omitzero"`
	DurationMS *int64          `json:"duration_ms,omitempty"`
	Usage      RunUsage        `json:"usage"`
}

func nodeAttempt(n store.NodeRun) NodeAttemptResponse {
	return NodeAttemptResponse{NodeID: n.NodeID, Attempt: n.Attempt, Status: string(n.Status), Input: n.Input, Output: n.Output,
		ErrorCode: n.ErrorCode, Error: n.Error, StartedAt: n.StartedAt, FinishedAt: n.FinishedAt,
		DurationMS: durationMS(n.StartedAt, n.FinishedAt),
		Usage:      RunUsage{InputTokens: n.InputTokens, OutputTokens: n.OutputTokens, Cost: n.Cost}}
}

// RunUsage is what the model calls of a node attempt, or of a run, cost.
type RunUsage struct {
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	Cost         float64 `json:"cost"`
}

// add returns the sum of u and v.
func (u RunUsage) add(v RunUsage) RunUsage {
	return RunUsage{InputTokens: u.InputTokens + v.InputTokens, OutputTokens: u.OutputTokens + v.OutputTokens, Cost: u.Cost + v.Cost}
}

// ApprovalResponse is the decision an approval node waits for, or got.
type ApprovalResponse struct {
	NodeID      string    `json:"node_id"`
	Message     string    `json:"message"`
	RequestedAt time.Time `json:"requested_at"`
	ExpiresAt   time.Time `json:"expires_at,omitzero" doc:"Absent: it never expires."`
	Decided     bool      `json:"decided"`
	Approved    bool      `json:"approved"`
	Comment     string    `json:"comment,omitempty"`
	DecidedBy   int64     `json:"decided_by,omitempty"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
}

func approvalResponse(a store.Approval) ApprovalResponse {
	return ApprovalResponse{NodeID: a.NodeID, Message: a.Message, RequestedAt: a.RequestedAt, ExpiresAt: a.ExpiresAt,
		Decided: a.Decided, Approved: a.Approved, Comment: a.Comment, DecidedBy: a.DecidedBy, DecidedAt: a.DecidedAt}
}

// DecisionRequest is the body of POST
// /pipelines/{id}/runs/{run_id}/approvals/{node_id}.
type DecisionRequest struct {
	Approved *bool  `json:"approved" doc:"Required: true approves, false rejects (the node, and unless it continues on error the run, fails)."`
	Comment  string `json:"comment,omitempty" doc:"At most 2000 characters; a rejection's comment becomes the run's error."`
}

// Validate implements validator.
func (q DecisionRequest) Validate() error {
	var fields []gathering.FieldError
	if q.Approved == nil {
		fields = append(fields, gathering.FieldError{Field: "approved", Message: "is required"})
	}
	if len([]rune(q.Comment)) > maxCommentLength {
		fields = append(fields, gathering.FieldError{Field: "comment", Message: "at most 2000 characters"})
	}
	if len(fields) > 0 {
		return gathering.Invalid("The decision is invalid.", fields...)
	}
	return nil
}

func (a *API) listBreakers(w http.ResponseWriter, _ *http.Request) error {
	items := cmpSlice(a.pipelines.Breakers())
	writeJSON(w, http.StatusOK, List[engine.BreakerState]{Items: items, Total: len(items)})
	return nil
}

func (a *API) runPipeline(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var q RunRequest
	if err := decodeOptionalJSON(r, &q); err != nil { // no body at all: no trigger data
		return err
	}
	run, err := a.pipelines.Submit(r.Context(), id, q.TriggerData, principalID(r))
	if invalid, ok := errors.AsType[*engine.InvalidError](err); ok {
		return invalidPipeline("run", invalid.Problems)
	}
	if err != nil {
		return err
	}
	writeRun(w, http.StatusAccepted, run)
	return nil
}

// writeRun answers with a run; a 202 names the run to follow in Location.
func writeRun(w http.ResponseWriter, status int, run store.PipelineRun) {
	if status == http.StatusAccepted {
		w.Header().Set("Location", "/pipelines/"+strconv.FormatInt(run.PipelineID, 10)+"/runs/"+run.ID)
	}
	writeJSON(w, status, runResponse(run))
}

func (a *API) listRuns(w http.ResponseWriter, r *http.Request) error {
	p, err := a.pathPipeline(r)
	if err != nil {
		return err
	}
	f, pg, err := runFilter(r, p.ID)
	if err != nil {
		return err
	}
	runs, total, err := a.store.RunList(r.Context(), f, pg)
	if err != nil {
		return err
	}
	out := List[RunResponse]{Items: make([]RunResponse, 0, len(runs)), Total: total}
	for _, run := range runs {
		out.Items = append(out.Items, runResponse(run))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// runFilter reads the query of a pipeline's run list.
func runFilter(r *http.Request, pipelineID int64) (store.RunFilter, store.Page, error) {
	pg, err := page(r)
	if err != nil {
		return store.RunFilter{}, pg, err
	}
	f := store.RunFilter{PipelineID: pipelineID, Status: store.RunStatus(r.URL.Query().Get("status"))}
	if f.Status != "" && !validRunStatus(f.Status) {
		return f, pg, gathering.Invalid("The query is invalid.", gathering.FieldError{Field: "status",
			Message: "must be pending, running, waiting_approval, completed, failed, cancelled or timed_out"})
	}
	return f, pg, nil
}

func validRunStatus(s store.RunStatus) bool {
	switch s {
	case store.RunPending, store.RunRunning, store.RunWaitingApproval:
		return true
	}
	return s.Final()
}

// pathRun loads the run the path names, which must be one of the path's
// pipeline.
func (a *API) pathRun(r *http.Request) (store.PipelineRun, error) {
	pipelineID, err := pathID(r, "id")
	if err != nil {
		return store.PipelineRun{}, err
	}
	run, err := a.store.RunGet(r.Context(), r.PathValue("run_id"))
	if err == nil && run.PipelineID != pipelineID {
		return store.PipelineRun{}, gathering.Errorf(gathering.ENOTFOUND, "The pipeline %d has no run %q.", pipelineID, run.ID)
	}
	return run, err
}

func (a *API) getRun(w http.ResponseWriter, r *http.Request) error {
	run, err := a.pathRun(r)
	if err != nil {
		return err
	}
	attempts, err := a.store.NodeRunList(r.Context(), run.ID)
	if err != nil {
		return err
	}
	approvals, err := a.store.ApprovalList(r.Context(), run.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, runDetail(run, attempts, approvals))
	return nil
}

// runDetail assembles a run's detail: its nodes in definition order, each
// with its attempts (which come by node, then attempt), and the usage of
// them all.
func runDetail(run store.PipelineRun, attempts []store.NodeRun, approvals []store.Approval) RunDetailResponse {
	d := RunDetailResponse{RunResponse: runResponse(run), Nodes: []RunNodeResponse{}, Approvals: make([]ApprovalResponse, 0, len(approvals))}
	byNode := map[string][]NodeAttemptResponse{}
	for _, n := range attempts {
		v := nodeAttempt(n)
		byNode[n.NodeID] = append(byNode[n.NodeID], v)
		d.Usage = d.Usage.add(v.Usage)
	}
	for _, id := range nodeIDs(run.Nodes) {
		d.Nodes = append(d.Nodes, runNode(id, byNode[id]))
	}
	for _, ap := range approvals {
		d.Approvals = append(d.Approvals, approvalResponse(ap))
	}
	return d
}

// nodeIDs returns the ids of a definition's nodes, in order.
func nodeIDs(nodes json.RawMessage) []string {
	var list []struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(nodes, &list) // a run's definition was valid when it was submitted
	ids := make([]string, 0, len(list))
	for _, n := range list {
		ids = append(ids, n.ID)
	}
	return ids
}

// runNode is a node as its latest attempt; one without any is pending.
func runNode(id string, attempts []NodeAttemptResponse) RunNodeResponse {
	if len(attempts) == 0 {
		return RunNodeResponse{NodeAttemptResponse: NodeAttemptResponse{NodeID: id, Status: string(store.NodePending)}, Attempts: []NodeAttemptResponse{}}
	}
	return RunNodeResponse{NodeAttemptResponse: attempts[len(attempts)-1], Attempts: attempts}
}

// runOperation is a handler that applies op to the path's run and
// answers with the run it returns.
func (a *API) runOperation(op func(context.Context, string) (store.PipelineRun, error), status int) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		run, err := a.pathRun(r)
		if err != nil {
			return err
		}
		if run, err = op(r.Context(), run.ID); err != nil {
			return err
		}
		writeRun(w, status, run)
		return nil
	}
}

func (a *API) decideApproval(w http.ResponseWriter, r *http.Request) error {
	var q DecisionRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	run, err := a.pathRun(r)
	if err != nil {
		return err
	}
	ap, err := a.pipelines.Decide(r.Context(), run.ID, r.PathValue("node_id"), *q.Approved, q.Comment, principalID(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, approvalResponse(ap))
	return nil
}
