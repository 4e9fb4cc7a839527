package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// taskBodyLimit bounds a task request: a goal of at most 10,000
// characters, up to 4 bytes each, and the limits.
const taskBodyLimit = 64 << 10

// taskRoutes are the background agent tasks; none without a runner.
func (a *API) taskRoutes() []Route {
	if a.tasks == nil {
		return nil
	}
	const tag = "background-tasks"
	op := func(name string, f func(context.Context, string) (store.BackgroundTask, error), summary string) Route {
		return Route{Method: "POST", Pattern: "/background-tasks/{id}/" + name, Access: Member, Handler: HandlerFunc(a.taskOperation(f)),
			Response: TaskResponse{}, Tag: tag, Summary: summary}
	}
	return []Route{
		{Method: "GET", Pattern: "/background-tasks", Access: Viewer, Handler: HandlerFunc(a.listTasks), Response: List[TaskResponse]{}, Tag: tag, Summary: "Background tasks, newest first (?status=, ?agent_id=)"},
		{Method: "POST", Pattern: "/background-tasks", Access: Member, Handler: HandlerFunc(a.createTask), Request: TaskRequest{}, Response: TaskResponse{}, Status: http.StatusCreated, BodyLimit: taskBodyLimit, Tag: tag, Summary: "Start a background task: 201 running, to follow on its events (429 when the most tasks already run)"},
		{Method: "GET", Pattern: "/background-tasks/{id}", Access: Viewer, Handler: HandlerFunc(a.getTask), Response: TaskDetailResponse{}, Tag: tag, Summary: "One background task with its steps, their tool calls and usage"},
		op("pause", a.tasks.Pause, "Pause a running task at once; it continues after its last checkpoint when resumed (409 unless running)"),
		op("resume", a.tasks.Resume, "Resume a paused task (409 unless paused, 429 when the most tasks already run)"),
		op("cancel", a.tasks.Cancel, "Cancel a running or paused task at once (409 when it finished)"),
	}
}

// TaskRequest starts a background task. Absent limits take their defaults.
type TaskRequest struct {
	AgentID            int64  `json:"agent_id" doc:"The agent that works on the goal, with its tools, as you."`
	Goal               string `json:"goal" doc:"1 to 10000 characters."`
	MaxSteps           int    `json:"max_steps,omitempty" doc:"1 to 100; 10 when absent. The task fails when the agent has not reported the goal reached after them."`
	TimeoutSeconds     int64  `json:"timeout_seconds,omitempty" doc:"Running time allowed, paused time excluded: 1 to 86400; 3600 when absent."`
	CheckpointInterval int    `json:"checkpoint_interval,omitempty" doc:"A checkpoint every so many steps, 1 to max_steps; 1 when absent. An interrupted task continues after its last checkpoint."`
}

// TaskResponse is a background task.
type TaskResponse struct {
	ID                 string    `json:"id"`
	AgentID            int64     `json:"agent_id"`
	CreatedBy          int64     `json:"created_by"`
	Goal               string    `json:"goal"`
	Status             string    `json:"status" enum:"running,paused,completed,failed,cancelled,timed_out"`
	MaxSteps           int       `json:"max_steps"`
	TimeoutSeconds     int64     `json:"timeout_seconds"`
	CheckpointInterval int       `json:"checkpoint_interval"`
	CheckpointStep     int       `json:"checkpoint_step" doc:"The task continues after this step when interrupted."`
	SessionID          string    `json:"session_id,omitempty" doc:"The chat session its steps share."`
	UsedSeconds        float64   `json:"used_seconds" doc:"Running time of its finished steps."`
	Result             string    `json:"result,omitempty"`
	ErrorCode          string    `json:"error_code,omitempty"`
	Error              string    `json:"error,omitempty"`
	Usage              TaskUsage `json:"usage"`
	CreatedAt          time.Time `json:"created_at"`
	StartedAt          time.Time `json:"started_at,omitzero"`
	UpdatedAt          time.Time `json:"updated_at"`
	FinishedAt         time.Time `json:"finished_at,omitzero"`
}

// TaskUsage is what a task or a step cost.
type TaskUsage struct {
	InputTokens  int     `json:"input_tokens"`
	OutputTokens int     `json:"output_tokens"`
	Cost         float64 `json:"cost"`
}

// TaskDetailResponse is a task with its steps.
type TaskDetailResponse struct {
	TaskResponse
	Steps []TaskStepResponse `json:"steps"`
}

// TaskStepResponse is one step of a task: one chat turn of its agent.
type TaskStepResponse struct {
	Step        int             `json:"step"`
	Status      string          `json:"status" enum:"running,completed,failed,interrupted"`
	Content     string          `json:"content"`
	ToolCalls   json.RawMessage `json:"tool_calls" doc:"[{id, tool, arguments}]"`
	ToolResults json.RawMessage `json:"tool_results" doc:"[{call_id, tool, execution_id?, status, output?, error?}]"`
	Usage       TaskUsage       `json:"usage"`
	ErrorCode   string          `json:"error_code,omitempty"`
	Error       string          `json:"error,omitempty"`
	StartedAt   time.Time       `json:"started_at"`
	FinishedAt  time.Time       `json:"finished_at,omitzero"`
}

func taskResponse(t store.BackgroundTask) TaskResponse {
	return TaskResponse{
		ID: t.ID, AgentID: t.AgentID, CreatedBy: t.UserID, Goal: t.Goal, Status: string(t.Status),
		MaxSteps: t.MaxSteps, TimeoutSeconds: t.TimeoutSec, CheckpointInterval: t.CheckpointInterval,
		CheckpointStep: t.CheckpointStep, SessionID: t.SessionID, UsedSeconds: float64(t.UsedMS) / 1000,
		Result: t.Result, ErrorCode: t.ErrorCode, Error: t.Error,
		Usage:     TaskUsage{InputTokens: t.InputTokens, OutputTokens: t.OutputTokens, Cost: t.Cost},
		CreatedAt: t.CreatedAt, StartedAt: t.StartedAt, UpdatedAt: t.UpdatedAt, FinishedAt: t.FinishedAt,
	}
}

func stepResponse(s store.TaskStep) TaskStepResponse {
	return TaskStepResponse{
		Step: s.Step, Status: s.Status, Content: s.Content,
		ToolCalls: jsonOrEmptyList(s.ToolCalls), ToolResults: jsonOrEmptyList(s.ToolResults),
		Usage:     TaskUsage{InputTokens: s.InputTokens, OutputTokens: s.OutputTokens, Cost: s.Cost},
		ErrorCode: s.ErrorCode, Error: s.Error, StartedAt: s.StartedAt, FinishedAt: s.FinishedAt,
	}
}

// jsonOrEmptyList is raw, or [] when there is none.
func jsonOrEmptyList(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("[]")
	}
	return raw
}

func (a *API) createTask(w http.ResponseWriter, r *http.Request) error {
	var q TaskRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	t, err := a.tasks.Create(r.Context(), background.NewTask{AgentID: q.AgentID, UserID: principalID(r), Goal: q.Goal,
		MaxSteps: q.MaxSteps, TimeoutSec: q.TimeoutSeconds, CheckpointInterval: q.CheckpointInterval})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/background-tasks/"+t.ID)
	writeJSON(w, http.StatusCreated, taskResponse(t))
	return nil
}

func (a *API) listTasks(w http.ResponseWriter, r *http.Request) error {
	f, pg, err := taskFilter(r)
	if err != nil {
		return err
	}
	tasks, total, err := a.store.TaskList(r.Context(), f, pg)
	if err != nil {
		return err
	}
	out := List[TaskResponse]{Items: make([]TaskResponse, 0, len(tasks)), Total: total}
	for _, t := range tasks {
		out.Items = append(out.Items, taskResponse(t))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// taskFilter reads the query of the task list.
func taskFilter(r *http.Request) (store.TaskFilter, store.Page, error) {
	pg, err := page(r)
	if err != nil {
		return store.TaskFilter{}, pg, err
	}
	q := r.URL.Query()
	f := store.TaskFilter{Status: store.TaskStatus(q.Get("status"))}
	var fields []gathering.FieldError
	statuses := []store.TaskStatus{store.TaskRunning, store.TaskPaused, store.TaskCompleted, store.TaskFailed, store.TaskCancelled, store.TaskTimedOut}
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		fields = append(fields, gathering.FieldError{Field: "status", Message: "must be running, paused, completed, failed, cancelled or timed_out"})
	}
	f.AgentID = queryAgentID(q, &fields)
	if len(fields) > 0 {
		return f, pg, gathering.Invalid("The query is invalid.", fields...)
	}
	return f, pg, nil
}

func (a *API) getTask(w http.ResponseWriter, r *http.Request) error {
	t, err := a.store.TaskGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	steps, err := a.store.TaskSteps(r.Context(), t.ID)
	if err != nil {
		return err
	}
	out := TaskDetailResponse{TaskResponse: taskResponse(t), Steps: make([]TaskStepResponse, 0, len(steps))}
	for _, s := range steps {
		out.Steps = append(out.Steps, stepResponse(s))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// taskOperation answers a pause, a resume or a cancel with the task as it
// is after it.
func (a *API) taskOperation(op func(context.Context, string) (store.BackgroundTask, error)) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		t, err := op(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, taskResponse(t))
		return nil
	}
}
