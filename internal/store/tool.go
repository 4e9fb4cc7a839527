package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// ToolStore keeps tool executions and the skills enabled for each agent.
type ToolStore interface {
	// ToolExecutionCreate inserts an execution whose ID the caller chose;
	// ECONFLICT when the id exists, EINVALID when Input is not valid JSON
	// or Output is neither nil nor valid JSON.
	ToolExecutionCreate(ctx context.Context, e ToolExecution) error
	// ToolExecutionUpdate writes the mutable fields of e (Status, Output,
	// ErrorCode, Error, Reason, StartedAt, FinishedAt, ExpiresAt, DecidedBy,
	// HeartbeatAt) to the row with e.ID, but only while the stored row is
	// not finished: ENOTFOUND when there is no such row, ECONFLICT when the
	// stored status is already final (so a late writer never overwrites an
	// outcome such as interrupted). It is one conditional statement, so of
	// an update and a concurrent ToolExecutionInterrupt only one finishes
	// the row. EINVALID when Output is neither nil nor valid JSON.
	ToolExecutionUpdate(ctx context.Context, e ToolExecution) error
	// ToolExecutionGet returns one execution or ENOTFOUND.
	ToolExecutionGet(ctx context.Context, id string) (ToolExecution, error)
	// ToolExecutionList returns the executions that match, newest first
	// (by CreatedAt, then ID), and the total count of matches. A page holds
	// 50 executions when Limit is not positive, and never more than 500.
	ToolExecutionList(ctx context.Context, f ToolExecutionFilter) ([]ToolExecution, int, error)
	// ToolExecutionHeartbeat sets heartbeat_at to at for every listed
	// execution that is not finished.
	ToolExecutionHeartbeat(ctx context.Context, ids []string, at time.Time) error
	// ToolExecutionInterrupt marks every unfinished execution whose
	// heartbeat is older than staleBefore (an execution without a
	// heartbeat counts from its CreatedAt) as failed with reason
	// "interrupted" and error code EUNAVAILABLE, finished at at, and
	// returns their ids, sorted.
	ToolExecutionInterrupt(ctx context.Context, staleBefore, at time.Time) ([]string, error)

	// AgentSkillsEnable enables the listed skills for an agent; enabling an
	// enabled skill is not an error and keeps its first enabled time.
	AgentSkillsEnable(ctx context.Context, agentID int64, skills []string, at time.Time) error
	// AgentSkillsDisable disables the listed skills for an agent (every
	// skill when skills is nil); disabling a disabled skill is not an error.
	AgentSkillsDisable(ctx context.Context, agentID int64, skills []string) error
	// AgentSkills returns the skills enabled for an agent, sorted by name
	// (byte order, as sort.Strings).
	AgentSkills(ctx context.Context, agentID int64) ([]string, error)
}

// ToolExecutionStatus is where an execution is in its life.
type ToolExecutionStatus string

// The execution statuses. The last four are final.
const (
	ToolPending              ToolExecutionStatus = "pending"
	ToolRunning              ToolExecutionStatus = "running"
	ToolAwaitingConfirmation ToolExecutionStatus = "awaiting_confirmation"
	ToolSucceeded            ToolExecutionStatus = "succeeded"
	ToolFailed               ToolExecutionStatus = "failed"
	ToolCancelled            ToolExecutionStatus = "cancelled"
	ToolTimedOut             ToolExecutionStatus = "timed_out"
)

// Final reports whether s is a final status.
func (s ToolExecutionStatus) Final() bool {
	switch s {
	case ToolSucceeded, ToolFailed, ToolCancelled, ToolTimedOut:
		return true
	}
	return false
}

// ToolExecution is one call of a tool, as recorded.
type ToolExecution struct {
	ID     string
	Tool   string
	Status ToolExecutionStatus
	// Input is the input with secret fields redacted.
	Input json.RawMessage
	// Output is the tool's output; nil until it succeeded.
	Output json.RawMessage
	// ErrorCode is the gathering error code of a failure ("ETIMEOUT", …).
	ErrorCode string
	// Error is the message of a failure, safe to show to the caller.
	Error string
	// Reason explains a final status that is not the tool's own outcome:
	// "interrupted", "denied", "expired", "cancelled".
	Reason string
	// UserID is the user who made the call, or on whose behalf an agent
	// made it; 0 when none.
	UserID int64
	// AgentID is the agent that made the call; 0 when a user made it.
	AgentID int64
	// Background is true when the caller did not wait for the outcome.
	Background bool
	// Owner is the id of the instance running the execution.
	Owner string

	CreatedAt   time.Time
	StartedAt   time.Time // zero until it runs
	FinishedAt  time.Time // zero until final
	ExpiresAt   time.Time // when an unconfirmed call expires; zero if none
	HeartbeatAt time.Time // the owner's last sign of life
	// DecidedBy is the user who confirmed or denied the call; 0 if none.
	DecidedBy int64
}

// ToolExecutionFilter selects executions. Zero fields match everything.
type ToolExecutionFilter struct {
	UserID  int64
	AgentID int64
	Tool    string
	Status  ToolExecutionStatus
	Page
}

// CheckNew refuses with EINVALID a new execution whose input is not JSON
// or whose output is neither nil nor JSON.
func (e ToolExecution) CheckNew() error {
	if !json.Valid(e.Input) {
		return gathering.Errorf(gathering.EINVALID, "tool execution %s: input is not valid JSON", e.ID)
	}
	return e.CheckUpdate()
}

// CheckUpdate refuses with EINVALID an update whose output is neither nil
// nor JSON.
func (e ToolExecution) CheckUpdate() error {
	if e.Output != nil && !json.Valid(e.Output) {
		return gathering.Errorf(gathering.EINVALID, "tool execution %s: output is not valid JSON", e.ID)
	}
	return nil
}
