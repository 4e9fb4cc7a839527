package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/circle"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Body limits of the circle routes: the longest texts they take, at up to
// 4 bytes a character, with room for the JSON around them.
const (
	circleBodyLimit   = 64 << 10  // description: 5000 characters
	memberBodyLimit   = 16 << 10  // 20 competencies of 50 characters
	taskBodyLimitC    = 256 << 10 // description: 20,000 characters
	submitBodyLimit   = 2 << 20   // result: 100,000 characters; 500 paths of 500
	reviewBodyLimit   = 16 << 10  // comments or reason: 2000 characters
	smallBodyLimit    = 4 << 10   // an agent id
	resolveBodyLimit  = 16 << 10  // resolution: 2000 characters
	circleTag         = "circles"
	circleTaskPattern = "/circles/{name}/tasks/{task_id}"
)

// circleRoutes are the circles; none without a service.
func (a *API) circleRoutes() []Route {
	if a.circles == nil {
		return nil
	}
	taskOp := func(op, summary string, h HandlerFunc, req any, limit int64) Route {
		return Route{Method: "POST", Pattern: circleTaskPattern + "/" + op, Access: Member, Handler: h, Request: req,
			Response: CircleTaskResponse{}, BodyLimit: limit, Tag: circleTag, Summary: summary}
	}
	return []Route{
		{Method: "GET", Pattern: "/circles", Access: Viewer, Handler: HandlerFunc(a.listCircles), Response: List[CircleResponse]{}, Tag: circleTag, Summary: "Circles by id (?status=stopped|running, ?project_id=)"},
		{Method: "POST", Pattern: "/circles", Access: Member, Handler: HandlerFunc(a.createCircle), Request: CircleRequest{}, Response: CircleDetailResponse{}, Status: http.StatusCreated, BodyLimit: circleBodyLimit, Tag: circleTag, Summary: "Create a circle, stopped (409 when the name is taken)"},
		{Method: "GET", Pattern: "/circles/{name}", Access: Viewer, Handler: HandlerFunc(a.getCircle), Response: CircleDetailResponse{}, Tag: circleTag, Summary: "One circle with its members (their agents, personas and workloads), task counts and open conflicts"},
		{Method: "PATCH", Pattern: "/circles/{name}", Access: Member, Handler: HandlerFunc(a.patchCircle), Request: CirclePatch{}, Response: CircleResponse{}, BodyLimit: circleBodyLimit, Tag: circleTag, Summary: "Change a circle's settings; absent fields stay"},
		{Method: "DELETE", Pattern: "/circles/{name}", Access: Member, Handler: HandlerFunc(a.deleteCircle), Status: http.StatusNoContent, Tag: circleTag, Summary: "Delete a circle with its members, tasks and conflicts; background tasks still working on its tasks are cancelled"},
		{Method: "POST", Pattern: "/circles/{name}/start", Access: Member, Handler: HandlerFunc(a.circleSwitch(a.circles.StartCircle)), Response: CircleResponse{}, Tag: circleTag, Summary: "Start a circle: its assigned tasks start as background tasks of their assignees (409 when running)"},
		{Method: "POST", Pattern: "/circles/{name}/stop", Access: Member, Handler: HandlerFunc(a.circleSwitch(a.circles.StopCircle)), Response: CircleResponse{}, Tag: circleTag, Summary: "Stop a circle: no new work starts; background tasks already running finish and are submitted (409 when stopped)"},
		{Method: "POST", Pattern: "/circles/{name}/agents", Access: Member, Handler: HandlerFunc(a.addCircleMember), Request: CircleMemberRequest{}, Response: CircleMemberResponse{}, Status: http.StatusCreated, BodyLimit: memberBodyLimit, Tag: circleTag, Summary: "Add an agent to the circle (409 when it is a member, or the circle has 500)"},
		{Method: "DELETE", Pattern: "/circles/{name}/agents/{agent_id}", Access: Member, Handler: HandlerFunc(a.removeCircleMember), Status: http.StatusNoContent, Tag: circleTag, Summary: "Remove an agent from the circle (409 while it works on or reviews an active task)"},
		{Method: "GET", Pattern: "/circles/{name}/tasks", Access: Viewer, Handler: HandlerFunc(a.listCircleTasks), Response: List[CircleTaskResponse]{}, Tag: circleTag, Summary: "The circle's tasks by id (?status=)"},
		{Method: "POST", Pattern: "/circles/{name}/tasks", Access: Member, Handler: HandlerFunc(a.createCircleTask), Request: CircleTaskRequest{}, Response: CircleTaskResponse{}, Status: http.StatusCreated, BodyLimit: taskBodyLimitC, Tag: circleTag, Summary: "Create a task; with auto_route it goes to the member best suited at once, room permitting"},
		{Method: "GET", Pattern: circleTaskPattern, Access: Viewer, Handler: HandlerFunc(a.getCircleTask), Response: CircleTaskDetailResponse{}, Tag: circleTag, Summary: "One task with its reviews"},
		taskOp("assign", "Assign a pending task to a member; it starts when the circle runs (409 unless pending, or when the circle has its most active tasks)", taskAction(a.assignTask), CircleAssignRequest{}, smallBodyLimit),
		taskOp("submit", "Submit an assigned or in-progress task's work: in review when the circle requires reviews, else completed (409 in another status)", taskAction(a.submitTask), CircleSubmitRequest{}, submitBodyLimit),
		taskOp("approve", "Approve a task in review: completed (422 when the reviewer cannot review it, 409 unless in review)", taskAction(a.approveTask), CircleApproveRequest{}, reviewBodyLimit),
		taskOp("reject", "Reject a task in review: back to its assignee with the reason as feedback (422 when the reviewer cannot review it, 409 unless in review)", taskAction(a.rejectTask), CircleRejectRequest{}, reviewBodyLimit),
		{Method: "GET", Pattern: "/circles/{name}/conflicts", Access: Viewer, Handler: HandlerFunc(a.listCircleConflicts), Response: List[CircleConflictResponse]{}, Tag: circleTag, Summary: "Two members working on the same file, by id (?status=open|resolved)"},
		{Method: "POST", Pattern: "/circles/{name}/conflicts/{id}/resolve", Access: Member, Handler: HandlerFunc(a.resolveCircleConflict), Request: CircleResolveRequest{}, Response: CircleConflictResponse{}, BodyLimit: resolveBodyLimit, Tag: circleTag, Summary: "Resolve an open conflict (409 when resolved)"},
		{Method: "GET", Pattern: "/circles/{name}/metrics", Access: Viewer, Handler: HandlerFunc(a.circleMetrics), Response: CircleMetricsResponse{}, Tag: circleTag, Summary: "Per member: tasks completed and failed, workload, approval rate, tokens and cost since joining"},
	}
}

// CircleRequest creates a circle.
type CircleRequest struct {
	Name               string `json:"name" doc:"1 to 64 letters, digits, '.', '_' or '-', starting with a letter or a digit; unique whatever the case. The circle's URLs use it."`
	Description        string `json:"description,omitempty" doc:"At most 5000 characters."`
	RequireReview      bool   `json:"require_review,omitempty" doc:"A submitted task waits for a member's review."`
	AutoRoute          bool   `json:"auto_route,omitempty" doc:"A new task goes to the member whose competencies cover its requirements best, then the least loaded."`
	MaxConcurrentTasks int    `json:"max_concurrent_tasks,omitempty" doc:"Active (assigned, in progress, in review) tasks at most: 1 to 100; 5 when absent. The others wait, pending."`
	ProjectID          int64  `json:"project_id,omitempty" doc:"The project its members work in; conflicts come from its files."`
}

// CirclePatch changes a circle; absent fields stay as they are.
type CirclePatch struct {
	Description        *string `json:"description,omitempty"`
	RequireReview      *bool   `json:"require_review,omitempty"`
	AutoRoute          *bool   `json:"auto_route,omitempty"`
	MaxConcurrentTasks *int    `json:"max_concurrent_tasks,omitempty" doc:"1 to 100."`
	ProjectID          *int64  `json:"project_id,omitempty" doc:"0 unlinks the project."`
}

// CircleResponse is a circle.
type CircleResponse struct {
	ID                 int64     `json:"id"`
	Name               string    `json:"name"`
	Description        string    `json:"description"`
	RequireReview      bool      `json:"require_review"`
	AutoRoute          bool      `json:"auto_route"`
	MaxConcurrentTasks int       `json:"max_concurrent_tasks"`
	ProjectID          int64     `json:"project_id,omitempty"`
	Status             string    `json:"status" enum:"stopped,running"`
	CreatedBy          int64     `json:"created_by"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	StartedAt          time.Time `json:"started_at,omitzero"`
}

// CircleDetailResponse is a circle with its members and counts.
type CircleDetailResponse struct {
	CircleResponse
	Members       []CircleMemberResponse `json:"members"`
	TaskCounts    map[string]int         `json:"task_counts" doc:"Tasks by status; every status is present."`
	OpenConflicts int                    `json:"open_conflicts"`
}

// CircleMemberRequest adds an agent to a circle.
type CircleMemberRequest struct {
	AgentID      int64    `json:"agent_id"`
	Competencies []string `json:"competencies,omitempty" doc:"At most 20, each 1 to 50 characters; the agent's own when absent."`
	CanReview    *bool    `json:"can_review,omitempty" doc:"Whether it reviews others' tasks; the agent's own setting when absent."`
}

// CircleMemberResponse is a member of a circle, with its agent.
type CircleMemberResponse struct {
	AgentID      int64     `json:"agent_id"`
	AgentName    string    `json:"agent_name,omitempty"`
	PersonaID    int64     `json:"persona_id,omitempty"`
	PersonaName  string    `json:"persona_name,omitempty"`
	Provider     string    `json:"provider,omitempty"`
	Model        string    `json:"model,omitempty"`
	Competencies []string  `json:"competencies"`
	CanReview    bool      `json:"can_review"`
	Workload     int       `json:"workload" doc:"Its active tasks in the circle."`
	Reviewing    int       `json:"reviewing" doc:"The circle's tasks in review it reviews."`
	JoinedAt     time.Time `json:"joined_at"`
}

// CircleTaskRequest creates a task.
type CircleTaskRequest struct {
	Title                string          `json:"title" doc:"1 to 200 characters."`
	Description          string          `json:"description,omitempty" doc:"At most 20000 characters."`
	RequiredCompetencies []string        `json:"required_competencies,omitempty" doc:"At most 20, each 1 to 50 characters."`
	Priority             json.RawMessage `json:"priority,omitempty" doc:"A whole number from 1 to 10, or low, medium, high or critical (3, 5, 7 and 9); 5 when absent. Pending tasks are routed highest first."`
}

// CircleTaskResponse is a task of a circle.
type CircleTaskResponse struct {
	ID                   int64     `json:"id"`
	Circle               string    `json:"circle"`
	Title                string    `json:"title"`
	Description          string    `json:"description"`
	RequiredCompetencies []string  `json:"required_competencies"`
	Priority             int       `json:"priority"`
	Status               string    `json:"status" enum:"pending,assigned,in_progress,in_review,completed,failed"`
	AssignedAgentID      int64     `json:"assigned_agent_id,omitempty"`
	ReviewerID           int64     `json:"reviewer_id,omitempty"`
	Result               string    `json:"result,omitempty"`
	FilesModified        []string  `json:"files_modified"`
	Feedback             string    `json:"feedback,omitempty" doc:"The last rejection's reason."`
	BackgroundTaskID     string    `json:"background_task_id,omitempty" doc:"The background task working on it, or that last did."`
	CreatedBy            int64     `json:"created_by"`
	CreatedAt            time.Time `json:"created_at"`
	UpdatedAt            time.Time `json:"updated_at"`
	StartedAt            time.Time `json:"started_at,omitzero"`
	CompletedAt          time.Time `json:"completed_at,omitzero"`
}

// CircleTaskDetailResponse is a task with its reviews.
type CircleTaskDetailResponse struct {
	CircleTaskResponse
	Reviews []CircleReviewResponse `json:"reviews"`
}

// CircleReviewResponse is one review of a task.
type CircleReviewResponse struct {
	ReviewerID int64     `json:"reviewer_id"`
	AssigneeID int64     `json:"assignee_id"`
	Approved   bool      `json:"approved"`
	Comment    string    `json:"comment,omitempty"`
	At         time.Time `json:"at"`
}

// CircleAssignRequest assigns a pending task.
type CircleAssignRequest struct {
	AgentID int64 `json:"agent_id" doc:"A member of the circle."`
}

// CircleSubmitRequest hands in a task's work.
type CircleSubmitRequest struct {
	Result        string   `json:"result" doc:"At most 100000 characters."`
	FilesModified []string `json:"files_modified,omitempty" doc:"Paths inside the circle's project, at most 500 of 500 characters; two members' tasks touching one make a conflict."`
}

// CircleApproveRequest approves a task in review.
type CircleApproveRequest struct {
	ReviewerID int64  `json:"reviewer_id" doc:"A member who can review, other than the assignee."`
	Comments   string `json:"comments,omitempty" doc:"At most 2000 characters."`
}

// CircleRejectRequest sends a task in review back to its assignee.
type CircleRejectRequest struct {
	ReviewerID int64  `json:"reviewer_id" doc:"A member who can review, other than the assignee."`
	Reason     string `json:"reason" doc:"1 to 2000 characters; the assignee works on it as feedback."`
}

// CircleConflictResponse is two members working on one file.
type CircleConflictResponse struct {
	ID         int64     `json:"id"`
	Path       string    `json:"path"`
	AgentIDs   []int64   `json:"agent_ids"`
	TaskIDs    []int64   `json:"task_ids" doc:"The active tasks they touched it for, in the order of agent_ids."`
	Status     string    `json:"status" enum:"open,resolved"`
	DetectedAt time.Time `json:"detected_at"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	Resolution string    `json:"resolution,omitempty"`
}

// CircleResolveRequest resolves a conflict.
type CircleResolveRequest struct {
	Resolution string `json:"resolution,omitempty" doc:"How it was settled, at most 2000 characters."`
}

// CircleMetricsResponse is what each member of a circle did and cost.
type CircleMetricsResponse struct {
	Circle  string                `json:"circle"`
	Members []CircleMemberMetrics `json:"members"`
}

// CircleMemberMetrics is one member's figures.
type CircleMemberMetrics struct {
	AgentID        int64     `json:"agent_id"`
	AgentName      string    `json:"agent_name"`
	JoinedAt       time.Time `json:"joined_at"`
	TasksCompleted int       `json:"tasks_completed"`
	TasksFailed    int       `json:"tasks_failed"`
	Workload       int       `json:"workload" doc:"Its active tasks."`
	Reviews        int       `json:"reviews" doc:"Reviews of its work."`
	ApprovalRate   *float64  `json:"approval_rate" doc:"Approvals divided by reviews; null before its first review."`
	InputTokens    int64     `json:"input_tokens" doc:"Of all its provider calls since it joined (the usage ledger)."`
	OutputTokens   int64     `json:"output_tokens"`
	Cost           float64   `json:"cost" doc:"US dollars, same calls."`
}

func circleResponse(c store.Circle) CircleResponse {
	return CircleResponse{ID: c.ID, Name: c.Name, Description: c.Description, RequireReview: c.RequireReview,
		AutoRoute: c.AutoRoute, MaxConcurrentTasks: c.MaxConcurrentTasks, ProjectID: c.ProjectID, Status: string(c.Status),
		CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, StartedAt: c.StartedAt}
}

func circleDetailResponse(d store.CircleDetail) CircleDetailResponse {
	out := CircleDetailResponse{CircleResponse: circleResponse(d.Circle), Members: make([]CircleMemberResponse, 0, len(d.Members)),
		TaskCounts: map[string]int{}, OpenConflicts: d.OpenConflicts}
	for _, s := range store.TaskStates {
		out.TaskCounts[string(s)] = d.TaskCounts[s]
	}
	for _, m := range d.Members {
		r := memberResponse(m.CircleMember)
		r.AgentName, r.PersonaID, r.PersonaName, r.Provider, r.Model = m.AgentName, m.PersonaID, m.PersonaName, m.Provider, m.Model
		r.Workload, r.Reviewing = m.Workload, m.Reviewing
		out.Members = append(out.Members, r)
	}
	return out
}

func memberResponse(m store.CircleMember) CircleMemberResponse {
	return CircleMemberResponse{AgentID: m.AgentID, Competencies: nonNil(m.Competencies), CanReview: m.CanReview, JoinedAt: m.JoinedAt}
}

// nonNil is list, or an empty list for nil.
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

func circleTaskResponse(circleName string, t store.CircleTask) CircleTaskResponse {
	return CircleTaskResponse{ID: t.ID, Circle: circleName, Title: t.Title, Description: t.Description,
		RequiredCompetencies: nonNil(t.RequiredCompetencies), Priority: t.Priority, Status: string(t.Status),
		AssignedAgentID: t.AssignedAgentID, ReviewerID: t.ReviewerID, Result: t.Result, FilesModified: nonNil(t.FilesModified),
		Feedback: t.Feedback, BackgroundTaskID: t.BackgroundTaskID, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt,
		UpdatedAt: t.UpdatedAt, StartedAt: t.StartedAt, CompletedAt: t.CompletedAt}
}

func conflictResponse(c store.CircleConflict) CircleConflictResponse {
	status := "open"
	if !c.ResolvedAt.IsZero() {
		status = "resolved"
	}
	return CircleConflictResponse{ID: c.ID, Path: c.Path, AgentIDs: []int64{c.AgentA, c.AgentB}, TaskIDs: []int64{c.TaskA, c.TaskB},
		Status: status, DetectedAt: c.DetectedAt, ResolvedAt: c.ResolvedAt, Resolution: c.Resolution}
}

func (a *API) listCircles(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.CircleFilter{Status: store.CircleStatus(q.Get("status"))}
	var fields []gathering.FieldError
	if f.Status != "" && f.Status != store.CircleStopped && f.Status != store.CircleRunning {
		fields = append(fields, gathering.FieldError{Field: "status", Message: "must be stopped or running"})
	}
	f.ProjectID = queryID(q, "project_id", "must be a project's id", &fields)
	if len(fields) > 0 {
		return gathering.Invalid("The query is invalid.", fields...)
	}
	circles, total, err := a.circles.List(r.Context(), f, pg)
	if err != nil {
		return err
	}
	out := List[CircleResponse]{Items: make([]CircleResponse, 0, len(circles)), Total: total}
	for _, c := range circles {
		out.Items = append(out.Items, circleResponse(c))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) createCircle(w http.ResponseWriter, r *http.Request) error {
	var q CircleRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	c, err := a.circles.Create(r.Context(), circle.NewCircle{Name: q.Name, Description: q.Description, RequireReview: q.RequireReview,
		AutoRoute: q.AutoRoute, MaxConcurrentTasks: q.MaxConcurrentTasks, ProjectID: q.ProjectID, CreatedBy: principalID(r)})
	if err != nil {
		return err
	}
	d, err := a.circles.Circle(r.Context(), c.Name)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/circles/"+c.Name)
	writeJSON(w, http.StatusCreated, circleDetailResponse(d))
	return nil
}

func (a *API) getCircle(w http.ResponseWriter, r *http.Request) error {
	d, err := a.circles.Circle(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, circleDetailResponse(d))
	return nil
}

func (a *API) patchCircle(w http.ResponseWriter, r *http.Request) error {
	var q CirclePatch
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	c, err := a.circles.Update(r.Context(), r.PathValue("name"), circle.Patch{Description: q.Description,
		RequireReview: q.RequireReview, AutoRoute: q.AutoRoute, MaxConcurrentTasks: q.MaxConcurrentTasks, ProjectID: q.ProjectID})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, circleResponse(c))
	return nil
}

func (a *API) deleteCircle(w http.ResponseWriter, r *http.Request) error {
	if err := a.circles.Delete(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// circleSwitch answers a start or a stop with the circle after it.
func (a *API) circleSwitch(op func(ctx context.Context, name string) (store.Circle, error)) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := op(r.Context(), r.PathValue("name"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, circleResponse(c))
		return nil
	}
}

func (a *API) addCircleMember(w http.ResponseWriter, r *http.Request) error {
	var q CircleMemberRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	name := r.PathValue("name")
	m, err := a.circles.AddMember(r.Context(), name, circle.NewMember{AgentID: q.AgentID, Competencies: q.Competencies, CanReview: q.CanReview})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/circles/"+name)
	writeJSON(w, http.StatusCreated, memberResponse(m))
	return nil
}

func (a *API) removeCircleMember(w http.ResponseWriter, r *http.Request) error {
	agentID, err := pathID(r, "agent_id")
	if err != nil {
		return err
	}
	if err := a.circles.RemoveMember(r.Context(), r.PathValue("name"), agentID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listCircleTasks(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	status := store.TaskState(r.URL.Query().Get("status"))
	if status != "" && !slices.Contains(store.TaskStates, status) {
		return gathering.Invalid("The query is invalid.", gathering.FieldError{Field: "status",
			Message: "must be pending, assigned, in_progress, in_review, completed or failed"})
	}
	name := r.PathValue("name")
	tasks, total, err := a.circles.Tasks(r.Context(), name, status, pg)
	if err != nil {
		return err
	}
	out := List[CircleTaskResponse]{Items: make([]CircleTaskResponse, 0, len(tasks)), Total: total}
	for _, t := range tasks {
		out.Items = append(out.Items, circleTaskResponse(name, t))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) createCircleTask(w http.ResponseWriter, r *http.Request) error {
	var q CircleTaskRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	priority, err := circle.ParsePriority(q.Priority)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	t, err := a.circles.CreateTask(r.Context(), name, circle.NewTask{Title: q.Title, Description: q.Description,
		RequiredCompetencies: q.RequiredCompetencies, Priority: priority, CreatedBy: principalID(r)})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/circles/"+name+"/tasks/"+strconv.FormatInt(t.ID, 10))
	writeJSON(w, http.StatusCreated, circleTaskResponse(name, t))
	return nil
}

func (a *API) getCircleTask(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "task_id")
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	t, reviews, err := a.circles.Task(r.Context(), name, id)
	if err != nil {
		return err
	}
	out := CircleTaskDetailResponse{CircleTaskResponse: circleTaskResponse(name, t), Reviews: make([]CircleReviewResponse, 0, len(reviews))}
	for _, v := range reviews {
		out.Reviews = append(out.Reviews, CircleReviewResponse{ReviewerID: v.ReviewerID, AssigneeID: v.AssigneeID,
			Approved: v.Approved, Comment: v.Comment, At: v.At})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// taskAction decodes the body of an operation on the path's task into q,
// runs op and answers the task after it.
func taskAction[Q any](op func(r *http.Request, name string, id int64, q Q) (store.CircleTask, error)) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "task_id")
		if err != nil {
			return err
		}
		var q Q
		if err := DecodeJSON(r, &q); err != nil {
			return err
		}
		name := r.PathValue("name")
		t, err := op(r, name, id, q)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, circleTaskResponse(name, t))
		return nil
	}
}

// assignTask assigns the path's task.
func (a *API) assignTask(r *http.Request, name string, id int64, q CircleAssignRequest) (store.CircleTask, error) {
	return a.circles.Assign(r.Context(), name, id, q.AgentID)
}

// submitTask submits the path's task.
func (a *API) submitTask(r *http.Request, name string, id int64, q CircleSubmitRequest) (store.CircleTask, error) {
	return a.circles.Submit(r.Context(), name, id, circle.Submission{Result: q.Result, FilesModified: q.FilesModified})
}

// approveTask approves the path's task.
func (a *API) approveTask(r *http.Request, name string, id int64, q CircleApproveRequest) (store.CircleTask, error) {
	return a.circles.Approve(r.Context(), name, id, circle.Review{ReviewerID: q.ReviewerID, Comment: q.Comments})
}

// rejectTask rejects the path's task.
func (a *API) rejectTask(r *http.Request, name string, id int64, q CircleRejectRequest) (store.CircleTask, error) {
	return a.circles.Reject(r.Context(), name, id, circle.Review{ReviewerID: q.ReviewerID, Comment: q.Reason})
}

func (a *API) listCircleConflicts(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	var open *bool
	switch status := r.URL.Query().Get("status"); status {
	case "":
	case "open", "resolved":
		open = new(status == "open")
	default:
		return gathering.Invalid("The query is invalid.", gathering.FieldError{Field: "status", Message: "must be open or resolved"})
	}
	conflicts, total, err := a.circles.Conflicts(r.Context(), r.PathValue("name"), open, pg)
	if err != nil {
		return err
	}
	out := List[CircleConflictResponse]{Items: make([]CircleConflictResponse, 0, len(conflicts)), Total: total}
	for _, c := range conflicts {
		out.Items = append(out.Items, conflictResponse(c))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) resolveCircleConflict(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var q CircleResolveRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	c, err := a.circles.Resolve(r.Context(), r.PathValue("name"), id, q.Resolution)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, conflictResponse(c))
	return nil
}

func (a *API) circleMetrics(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	metrics, err := a.circles.Metrics(r.Context(), name)
	if err != nil {
		return err
	}
	out := CircleMetricsResponse{Circle: name, Members: make([]CircleMemberMetrics, 0, len(metrics))}
	for _, m := range metrics {
		out.Members = append(out.Members, CircleMemberMetrics{AgentID: m.AgentID, AgentName: m.AgentName, JoinedAt: m.JoinedAt,
			TasksCompleted: m.Completed, TasksFailed: m.Failed, Workload: m.Workload, Reviews: m.Reviews,
			ApprovalRate: m.ApprovalRate, InputTokens: m.InputTokens, OutputTokens: m.OutputTokens, Cost: m.Cost})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
