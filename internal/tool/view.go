package tool

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/store"
)

// Execution is the JSON form of a recorded execution, as the API answers it
// and events carry it (events leave out input and output).
type Execution struct {
	ID         string                    `json:"id"`
	Tool       string                    `json:"tool"`
	Status     store.ToolExecutionStatus `json:"status"`
	Reason     string                    `json:"reason,omitempty"`
	Input      json.RawMessage           `json:"input,omitempty"`
	Output     json.RawMessage           `json:"output,omitempty"`
	Error      *ExecutionError           `json:"error,omitempty"`
	UserID     int64                     `json:"user_id,omitempty"`
	AgentID    int64                     `json:"agent_id,omitempty"`
	Background bool                      `json:"background"`
	DecidedBy  int64                     `json:"decided_by,omitempty"`
	CreatedAt  time.Time                 `json:"created_at"`
	StartedAt  *time.Time                `json:"started_at,omitempty"`
	FinishedAt *time.Time                `json:"finished_at,omitempty"`
	ExpiresAt  *time.Time                `json:"expires_at,omitempty"`
	DurationMS *int64                    `json:"duration_ms,omitempty"`
}

// ExecutionError is why an execution failed.
type ExecutionError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// View returns the JSON form of e.
func View(e store.ToolExecution) Execution {
	v := Execution{
		ID: e.ID, Tool: e.Tool, Status: e.Status, Reason: e.Reason,
		Input: e.Input, Output: e.Output, UserID: e.UserID, AgentID: e.AgentID,
		Background: e.Background, DecidedBy: e.DecidedBy, CreatedAt: e.CreatedAt,
		StartedAt: optionalTime(e.StartedAt), FinishedAt: optionalTime(e.FinishedAt),
	}
	if e.Status == store.ToolAwaitingConfirmation {
		v.ExpiresAt = optionalTime(e.ExpiresAt)
	}
	if e.Error != "" {
		v.Error = &ExecutionError{Code: e.ErrorCode, Message: e.Error}
	}
	if !e.StartedAt.IsZero() && !e.FinishedAt.IsZero() {
		d := e.FinishedAt.Sub(e.StartedAt).Milliseconds()
		v.DurationMS = &d
	}
	return v
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// topics are the event topics of an execution. An execution made for a
// user carries user:<id>, so only that user and administrators see it.
func topics(e store.ToolExecution) []string {
	ts := []string{"tool:" + e.Tool, "tool_execution:" + e.ID}
	if e.UserID != 0 {
		ts = append(ts, "user:"+strconv.FormatInt(e.UserID, 10))
	}
	return ts
}

func actor(e store.ToolExecution) string {
	if e.AgentID != 0 {
		return "agent:" + strconv.FormatInt(e.AgentID, 10)
	}
	if e.UserID != 0 {
		return "user:" + strconv.FormatInt(e.UserID, 10)
	}
	return ""
}

// publish announces e's status as tool.execution.<status>, without its
// input and output.
func (x *Executor) publish(ctx context.Context, e store.ToolExecution) {
	v := View(e)
	v.Input, v.Output = nil, nil
	x.emit(ctx, e, "tool.execution."+string(e.Status), v)
}

// progressReporter publishes a run's progress as tool.execution.progress.
func (x *Executor) progressReporter(e store.ToolExecution) func(Progress) {
	return func(p Progress) {
		x.emit(context.Background(), e, "tool.execution.progress", struct {
			ID   string `json:"id"`
			Tool string `json:"tool"`
			Progress
		}{e.ID, e.Tool, p})
	}
}

func (x *Executor) emit(ctx context.Context, e store.ToolExecution, typ string, data any) {
	if x.bus == nil {
		return
	}
	raw, err := json.Marshal(data)
	if err == nil {
		_, err = x.bus.Publish(context.WithoutCancel(ctx), event.Event{Type: typ, Topics: topics(e), Actor: actor(e), Data: raw})
	}
	if err != nil {
		x.opts.Logger.Warn("tool execution event not published", "execution", e.ID, "type", typ, "err", err)
	}
}
