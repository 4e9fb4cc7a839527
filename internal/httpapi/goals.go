package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/goal"
	"github.com/gathering/gathering/internal/store"
)

// goalBodyLimit bounds a goal request: texts of at most 10,000 characters
// (4 bytes each at most), the 16 KiB context and the rest.
const goalBodyLimit = 256 << 10

// goalActionBodyLimit bounds the body of a transition or a dependency.
const goalActionBodyLimit = 64 << 10

// goalRoutes are the goals; none without a service.
func (a *API) goalRoutes() []Route {
	if a.goals == nil {
		return nil
	}
	const tag = "goals"
	op := func(name string, handler HandlerFunc, request any, summary string) Route {
		return Route{Method: "POST", Pattern: "/goals/{id}/" + name, Access: Member, Handler: handler, Request: request,
			Response: GoalResponse{}, BodyLimit: goalActionBodyLimit, Tag: tag, Summary: summary}
	}
	return []Route{
		{Method: "GET", Pattern: "/goals", Access: Viewer, Handler: HandlerFunc(a.listGoals), Response: GoalListResponse{}, Tag: tag, Summary: "Goals by id (?agent_id=, ?circle_id=, ?status=, ?parent_id=, ?root_only=), with their counts by status"},
		{Method: "POST", Pattern: "/goals", Access: Member, Handler: HandlerFunc(a.createGoal), Request: GoalRequest{}, Response: GoalResponse{}, Status: http.StatusCreated, BodyLimit: goalBodyLimit, Tag: tag, Summary: "Create a pending goal, or a sub-goal with parent_id (at most 5 levels deep, 50 sub-goals a goal)"},
		{Method: "GET", Pattern: "/goals/{id}", Access: Viewer, Handler: HandlerFunc(a.getGoal), Response: GoalDetailResponse{}, Tag: tag, Summary: "One goal, with its agent's name, sub-goal counts, the goals blocking it and its background task's status"},
		{Method: "PATCH", Pattern: "/goals/{id}", Access: Member, Handler: HandlerFunc(a.patchGoal), Request: GoalPatchRequest{}, Response: GoalResponse{}, BodyLimit: goalBodyLimit, Tag: tag, Summary: "Change some fields of a goal (409 when version is stale; the status changes through the actions)"},
		{Method: "DELETE", Pattern: "/goals/{id}", Access: Member, Handler: HandlerFunc(a.deleteGoal), Status: http.StatusNoContent, Tag: tag, Summary: "Delete a goal with its sub-goals and dependencies (409 while it or a sub-goal is active)"},
		op("start", a.goalAction(a.goals.Start), nil, "Start a pending goal (409 while a goal it depends on with blocks is not completed)"),
		op("pause", a.goalReason(a.goals.Pause), GoalReasonRequest{}, "Pause an active goal"),
		op("resume", a.goalAction(a.goals.Resume), nil, "Resume a paused or blocked goal (409 while a goal it depends on with blocks is not completed)"),
		op("block", a.goalReason(a.goals.Block), GoalReasonRequest{}, "Mark a pending or active goal blocked"),
		op("complete", HandlerFunc(a.completeGoal), GoalCompleteRequest{}, "Complete an unfinished goal at 100%"),
		op("fail", HandlerFunc(a.failGoal), GoalFailRequest{}, "Mark an unfinished goal failed, with the reason"),
		op("cancel", a.goalReason(a.goals.Cancel), GoalReasonRequest{}, "Cancel an unfinished goal; its parent's progress leaves it out"),
		op("progress", HandlerFunc(a.goalProgress), GoalProgressRequest{}, "Set the progress of an unfinished goal without sub-goals that count (409 otherwise)"),
		{Method: "GET", Pattern: "/goals/{id}/subgoals", Access: Viewer, Handler: HandlerFunc(a.listSubgoals), Response: List[GoalResponse]{}, Tag: tag, Summary: "The sub-goals of a goal, by id"},
		{Method: "GET", Pattern: "/goals/{id}/tree", Access: Viewer, Handler: HandlerFunc(a.goalTree), Response: GoalTreeResponse{}, Tag: tag, Summary: "A goal with its sub-goals at every depth, nested (at most 500 goals; truncated says when more exist)"},
		{Method: "POST", Pattern: "/goals/{id}/dependencies", Access: Member, Handler: HandlerFunc(a.addGoalDependency), Request: GoalDependencyRequest{}, Response: GoalDependencyResponse{}, Status: http.StatusCreated, BodyLimit: goalActionBodyLimit, Tag: tag, Summary: "Make the goal depend on another (at most 20; 409 for a cycle)"},
		{Method: "GET", Pattern: "/goals/{id}/dependencies", Access: Viewer, Handler: HandlerFunc(a.listGoalDependencies), Response: List[GoalDependencyResponse]{}, Tag: tag, Summary: "The goals a goal depends on"},
		{Method: "DELETE", Pattern: "/goals/{id}/dependencies/{depends_on_id}", Access: Member, Handler: HandlerFunc(a.removeGoalDependency), Status: http.StatusNoContent, Tag: tag, Summary: "Remove a dependency"},
	}
}

// GoalRequest creates a goal.
type GoalRequest struct {
	AgentID          int64           `json:"agent_id" doc:"The agent responsible for it."`
	Title            string          `json:"title" doc:"1 to 255 characters."`
	Description      string          `json:"description,omitempty" doc:"At most 10000 characters."`
	SuccessCriteria  string          `json:"success_criteria,omitempty" doc:"How to tell it is reached; at most 5000 characters."`
	CircleID         int64           `json:"circle_id,omitempty" doc:"The circle it serves; a sub-goal without one takes its parent's."`
	ParentID         int64           `json:"parent_id,omitempty" doc:"The goal it is a sub-goal of."`
	Priority         string          `json:"priority,omitempty" enum:"low,medium,high,critical" doc:"medium when absent."`
	Deadline         string          `json:"deadline,omitempty" format:"date-time" doc:"RFC 3339."`
	EstimatedHours   float64         `json:"estimated_hours,omitempty" doc:"0 to 100000."`
	Tags             []string        `json:"tags,omitempty" doc:"At most 20, each 1 to 50 characters."`
	Context          json.RawMessage `json:"context,omitempty" doc:"A JSON object of at most 16 KiB, stored as sent; {} when absent."`
	CircleTaskID     int64           `json:"circle_task_id,omitempty" doc:"A circle task it is linked to."`
	BackgroundTaskID string          `json:"background_task_id,omitempty" doc:"A background task working on it; at most 100 characters."`
}

// newGoal is the request as the service takes it, with the field errors
// of the deadline.
func (q GoalRequest) newGoal() (goal.NewGoal, []gathering.FieldError) {
	deadline, fields := queryTime(q.Deadline, "deadline")
	return goal.NewGoal{AgentID: q.AgentID, CircleID: q.CircleID, ParentID: q.ParentID, Title: q.Title,
		Description: q.Description, SuccessCriteria: q.SuccessCriteria, Priority: store.GoalPriority(q.Priority),
		Deadline: deadline, EstimatedHours: q.EstimatedHours, Tags: q.Tags, Context: q.Context,
		CircleTaskID: q.CircleTaskID, BackgroundTaskID: q.BackgroundTaskID}, fields
}

// Validate checks the fields that need no lookup.
func (q GoalRequest) Validate() error {
	n, fields := q.newGoal()
	return invalidGoal(append(fields, n.Check()...))
}

// invalidGoal is the 422 of field errors, or nil.
func invalidGoal(fields []gathering.FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	return gathering.Invalid("The goal is invalid.", fields...)
}

// GoalPatchRequest changes some fields of a goal; absent fields stay.
type GoalPatchRequest struct {
	Version          int64           `json:"version,omitempty" doc:"The version you read; 409 when it changed since. Absent: the latest is changed."`
	Title            *string         `json:"title,omitempty" doc:"1 to 255 characters."`
	Description      *string         `json:"description,omitempty"`
	SuccessCriteria  *string         `json:"success_criteria,omitempty"`
	Priority         *string         `json:"priority,omitempty" enum:"low,medium,high,critical"`
	ProgressPercent  *int            `json:"progress_percent,omitempty" doc:"0 to 100; 409 for a goal whose sub-goals count or that is finished."`
	StatusMessage    *string         `json:"status_message,omitempty"`
	Deadline         *string         `json:"deadline,omitempty" doc:"RFC 3339; empty clears it."`
	EstimatedHours   *float64        `json:"estimated_hours,omitempty"`
	ActualHours      *float64        `json:"actual_hours,omitempty"`
	ResultSummary    *string         `json:"result_summary,omitempty"`
	LessonsLearned   *string         `json:"lessons_learned,omitempty"`
	Tags             []string        `json:"tags,omitempty" doc:"Replaces the tags; [] clears them."`
	Context          json.RawMessage `json:"context,omitempty" doc:"Replaces the context: a JSON object."`
	CircleID         *int64          `json:"circle_id,omitempty" doc:"0 clears it."`
	CircleTaskID     *int64          `json:"circle_task_id,omitempty" doc:"0 clears it."`
	BackgroundTaskID *string         `json:"background_task_id,omitempty" doc:"Empty clears it."`
}

// patch is the request as the service takes it, with the field errors of
// the deadline.
func (q GoalPatchRequest) patch() (goal.Patch, []gathering.FieldError) {
	p := goal.Patch{Version: q.Version, Title: q.Title, Description: q.Description, SuccessCriteria: q.SuccessCriteria,
		Progress: q.ProgressPercent, StatusMessage: q.StatusMessage, EstimatedHours: q.EstimatedHours,
		ActualHours: q.ActualHours, ResultSummary: q.ResultSummary, LessonsLearned: q.LessonsLearned, Tags: q.Tags,
		Context: q.Context, CircleID: q.CircleID, CircleTaskID: q.CircleTaskID, BackgroundTaskID: q.BackgroundTaskID}
	if q.Priority != nil {
		p.Priority = new(store.GoalPriority(*q.Priority))
	}
	var fields []gathering.FieldError
	if q.Deadline != nil {
		var deadline time.Time
		deadline, fields = queryTime(*q.Deadline, "deadline")
		p.Deadline = &deadline
	}
	return p, fields
}

// Validate checks the fields that need no lookup.
func (q GoalPatchRequest) Validate() error {
	p, fields := q.patch()
	return invalidGoal(append(fields, p.Check()...))
}

// GoalReasonRequest says why a goal pauses, is blocked or is cancelled.
type GoalReasonRequest struct {
	Reason string `json:"reason,omitempty" doc:"Becomes the status message; at most 2000 characters."`
}

// GoalCompleteRequest completes a goal.
type GoalCompleteRequest struct {
	ResultSummary string `json:"result_summary,omitempty" doc:"What came of it; at most 10000 characters."`
}

// GoalFailRequest fails a goal.
type GoalFailRequest struct {
	Reason         string `json:"reason" doc:"Why it failed; becomes the status message. 1 to 2000 characters."`
	LessonsLearned string `json:"lessons_learned,omitempty" doc:"At most 10000 characters."`
}

// GoalProgressRequest sets a goal's progress.
type GoalProgressRequest struct {
	Percent *int   `json:"percent" doc:"0 to 100."`
	Message string `json:"message,omitempty" doc:"Becomes the status message; at most 2000 characters."`
}

// Validate requires the percentage.
func (q GoalProgressRequest) Validate() error {
	if q.Percent == nil {
		return gathering.Invalid("The progress is invalid.", gathering.FieldError{Field: "percent", Message: "is required"})
	}
	return nil
}

// GoalDependencyRequest makes a goal depend on another.
type GoalDependencyRequest struct {
	DependsOnID    int64  `json:"depends_on_id" doc:"The goal depended on."`
	DependencyType string `json:"dependency_type,omitempty" enum:"blocks,informs,enhances" doc:"blocks when absent: the goal cannot start before that one is completed."`
}

// GoalResponse is a goal.
type GoalResponse struct {
	ID               int64           `json:"id"`
	AgentID          int64           `json:"agent_id"`
	CircleID         int64           `json:"circle_id,omitempty"`
	ParentID         int64           `json:"parent_id,omitempty"`
	Depth            int             `json:"depth" doc:"0 for a top-level goal."`
	Title            string          `json:"title"`
	Description      string          `json:"description"`
	SuccessCriteria  string          `json:"success_criteria"`
	Status           string          `json:"status" enum:"pending,active,blocked,paused,completed,failed,cancelled"`
	Priority         string          `json:"priority" enum:"low,medium,high,critical"`
	ProgressPercent  int             `json:"progress_percent" doc:"With sub-goals: their mean, a completed one counting 100 and a cancelled one left out."`
	StatusMessage    string          `json:"status_message"`
	Deadline         time.Time       `json:"deadline,omitzero"`
	EstimatedHours   float64         `json:"estimated_hours"`
	ActualHours      float64         `json:"actual_hours"`
	ResultSummary    string          `json:"result_summary"`
	LessonsLearned   string          `json:"lessons_learned"`
	Tags             []string        `json:"tags"`
	Context          json.RawMessage `json:"context"`
	CircleTaskID     int64           `json:"circle_task_id,omitempty"`
	BackgroundTaskID string          `json:"background_task_id,omitempty"`
	CreatedBy        string          `json:"created_by" doc:"Who created it: user:<id> or agent:<id>."`
	CreatedAt        time.Time       `json:"created_at"`
	UpdatedAt        time.Time       `json:"updated_at"`
	StartedAt        time.Time       `json:"started_at,omitzero"`
	CompletedAt      time.Time       `json:"completed_at,omitzero" doc:"When it completed, failed or was cancelled."`
	Version          int64           `json:"version"`
}

func goalResponse(g store.Goal) GoalResponse {
	if g.Tags == nil {
		g.Tags = []string{}
	}
	return GoalResponse{ID: g.ID, AgentID: g.AgentID, CircleID: g.CircleID, ParentID: g.ParentID, Depth: g.Depth,
		Title: g.Title, Description: g.Description, SuccessCriteria: g.SuccessCriteria, Status: string(g.Status),
		Priority: string(g.Priority), ProgressPercent: g.Progress, StatusMessage: g.StatusMessage, Deadline: g.Deadline,
		EstimatedHours: g.EstimatedHours, ActualHours: g.ActualHours, ResultSummary: g.ResultSummary,
		LessonsLearned: g.LessonsLearned, Tags: g.Tags, Context: g.Context, CircleTaskID: g.CircleTaskID,
		BackgroundTaskID: g.BackgroundTaskID, CreatedBy: g.CreatedBy, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt,
		StartedAt: g.StartedAt, CompletedAt: g.CompletedAt, Version: g.Version}
}

// goalResponses are the responses of goals.
func goalResponses(goals []store.Goal) []GoalResponse {
	out := make([]GoalResponse, 0, len(goals))
	for _, g := range goals {
		out = append(out, goalResponse(g))
	}
	return out
}

// GoalListResponse is a page of goals.
type GoalListResponse struct {
	Items  []GoalResponse `json:"items"`
	Total  int            `json:"total"`
	Counts map[string]int `json:"counts" doc:"The goals the other filters select, by status (whatever ?status= says)."`
}

// GoalDetailResponse is one goal with what its page shows.
type GoalDetailResponse struct {
	GoalResponse
	AgentName         string       `json:"agent_name"`
	SubgoalCount      int          `json:"subgoal_count"`
	CompletedSubgoals int          `json:"completed_subgoals"`
	Blocking          []GoalRef    `json:"blocking" doc:"The goals it depends on with blocks that are not completed: it cannot start or resume before they are."`
	BackgroundTask    *GoalTaskRef `json:"background_task,omitempty" doc:"The linked background task, when it exists."`
}

// GoalRef names a goal.
type GoalRef struct {
	ID     int64  `json:"id"`
	Title  string `json:"title"`
	Status string `json:"status"`
}

// GoalTaskRef names the background task a goal links to, and its status.
type GoalTaskRef struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func goalDetailResponse(d goal.Detail) GoalDetailResponse {
	out := GoalDetailResponse{GoalResponse: goalResponse(d.Goal), AgentName: d.AgentName, SubgoalCount: d.Subgoals,
		CompletedSubgoals: d.CompletedSubgoals, Blocking: make([]GoalRef, 0, len(d.Blocking))}
	for _, b := range d.Blocking {
		out.Blocking = append(out.Blocking, GoalRef{ID: b.ID, Title: b.Title, Status: string(b.Status)})
	}
	if d.BackgroundTaskStatus != "" {
		out.BackgroundTask = &GoalTaskRef{ID: d.BackgroundTaskID, Status: string(d.BackgroundTaskStatus)}
	}
	return out
}

// GoalTreeNode is a goal with its sub-goals, nested.
type GoalTreeNode struct {
	GoalResponse
	Subgoals []GoalTreeNode `json:"subgoals"`
}

// GoalTreeResponse is a goal's tree.
type GoalTreeResponse struct {
	GoalTreeNode
	Truncated bool `json:"truncated" doc:"The tree holds more than 500 goals; the deepest are left out."`
}

func goalTreeNode(t goal.Tree) GoalTreeNode {
	n := GoalTreeNode{GoalResponse: goalResponse(t.Goal), Subgoals: make([]GoalTreeNode, 0, len(t.Subgoals))}
	for _, s := range t.Subgoals {
		n.Subgoals = append(n.Subgoals, goalTreeNode(s))
	}
	return n
}

// GoalDependencyResponse is one dependency of a goal.
type GoalDependencyResponse struct {
	GoalID          int64     `json:"goal_id"`
	DependsOnID     int64     `json:"depends_on_id"`
	DependencyType  string    `json:"dependency_type" enum:"blocks,informs,enhances"`
	DependsOnTitle  string    `json:"depends_on_title"`
	DependsOnStatus string    `json:"depends_on_status"`
	CreatedAt       time.Time `json:"created_at"`
}

func goalDependencyResponse(d store.GoalDependency) GoalDependencyResponse {
	return GoalDependencyResponse{GoalID: d.GoalID, DependsOnID: d.DependsOnID, DependencyType: string(d.Type),
		DependsOnTitle: d.DependsOnTitle, DependsOnStatus: string(d.DependsOnStatus), CreatedAt: d.CreatedAt}
}

// goalActor is who acts through a request.
func goalActor(r *http.Request) goal.Actor { return goal.Actor{UserID: principalID(r)} }

func (a *API) createGoal(w http.ResponseWriter, r *http.Request) error {
	var q GoalRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	n, _ := q.newGoal()
	g, err := a.goals.Create(r.Context(), goalActor(r), n)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/goals/"+strconv.FormatInt(g.ID, 10))
	writeJSON(w, http.StatusCreated, goalResponse(g))
	return nil
}

func (a *API) listGoals(w http.ResponseWriter, r *http.Request) error {
	f, pg, err := goalFilter(r)
	if err != nil {
		return err
	}
	page, err := a.goals.List(r.Context(), f, pg)
	if err != nil {
		return err
	}
	out := GoalListResponse{Items: goalResponses(page.Goals), Total: page.Total, Counts: map[string]int{}}
	for status, n := range page.Counts {
		out.Counts[string(status)] = n
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// goalFilter reads the query of the goal list.
func goalFilter(r *http.Request) (store.GoalFilter, store.Page, error) {
	pg, err := page(r)
	if err != nil {
		return store.GoalFilter{}, pg, err
	}
	q := r.URL.Query()
	var fields []gathering.FieldError
	f := store.GoalFilter{AgentID: queryAgentID(q, &fields), CircleID: queryID(q, "circle_id", "must be a positive id", &fields),
		ParentID: queryID(q, "parent_id", "must be a positive id", &fields), Status: store.GoalStatus(q.Get("status"))}
	if f.RootOnly, err = queryBool(r, "root_only"); err != nil {
		fields = append(fields, gathering.ErrorFields(err)...)
	}
	if len(fields) > 0 {
		return f, pg, gathering.Invalid("The query is invalid.", fields...)
	}
	return f, pg, nil
}

func (a *API) getGoal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := a.goals.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, goalDetailResponse(d))
	return nil
}

func (a *API) patchGoal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var q GoalPatchRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	p, _ := q.patch()
	return writeGoal(w)(a.goals.Update(r.Context(), goalActor(r), id, p))
}

// writeGoal returns a function that answers with the goal a service call
// returned, or its error.
func writeGoal(w http.ResponseWriter) func(store.Goal, error) error {
	return func(g store.Goal, err error) error {
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, goalResponse(g))
		return nil
	}
}

func (a *API) deleteGoal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.goals.Delete(r.Context(), goalActor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// goalAction answers a transition that takes no body.
func (a *API) goalAction(move func(context.Context, goal.Actor, int64) (store.Goal, error)) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		return writeGoal(w)(move(r.Context(), goalActor(r), id))
	}
}

// goalReason answers a transition that takes an optional reason.
func (a *API) goalReason(move func(context.Context, goal.Actor, int64, string) (store.Goal, error)) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var q GoalReasonRequest
		if err := decodeOptionalJSON(r, &q); err != nil {
			return err
		}
		return writeGoal(w)(move(r.Context(), goalActor(r), id, q.Reason))
	}
}

func (a *API) completeGoal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var q GoalCompleteRequest
	if err := decodeOptionalJSON(r, &q); err != nil {
		return err
	}
	return writeGoal(w)(a.goals.Complete(r.Context(), goalActor(r), id, q.ResultSummary))
}

func (a *API) failGoal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var q GoalFailRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	return writeGoal(w)(a.goals.Fail(r.Context(), goalActor(r), id, q.Reason, q.LessonsLearned))
}

func (a *API) goalProgress(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var q GoalProgressRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	return writeGoal(w)(a.goals.SetProgress(r.Context(), goalActor(r), id, *q.Percent, q.Message))
}

func (a *API) listSubgoals(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	goals, err := a.goals.Subgoals(r.Context(), id)
	if err != nil {
		return err
	}
	writeItems(w, goalResponses(goals))
	return nil
}

func (a *API) goalTree(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	tree, truncated, err := a.goals.Tree(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, GoalTreeResponse{GoalTreeNode: goalTreeNode(tree), Truncated: truncated})
	return nil
}

func (a *API) addGoalDependency(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var q GoalDependencyRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	d, err := a.goals.AddDependency(r.Context(), goalActor(r), id, q.DependsOnID, store.GoalDependencyType(q.DependencyType))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/goals/"+strconv.FormatInt(id, 10)+"/dependencies/"+strconv.FormatInt(d.DependsOnID, 10))
	writeJSON(w, http.StatusCreated, goalDependencyResponse(d))
	return nil
}

func (a *API) listGoalDependencies(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	deps, err := a.goals.Dependencies(r.Context(), id)
	if err != nil {
		return err
	}
	out := make([]GoalDependencyResponse, 0, len(deps))
	for _, d := range deps {
		out = append(out, goalDependencyResponse(d))
	}
	writeItems(w, out)
	return nil
}

func (a *API) removeGoalDependency(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	dependsOn, err := pathID(r, "depends_on_id")
	if err != nil {
		return err
	}
	if err := a.goals.RemoveDependency(r.Context(), goalActor(r), id, dependsOn); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
