package store

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// PipelineRunStore keeps pipeline runs, the attempts of their nodes and
// their approvals. A run is executed by the one instance that holds its
// lease: RunClaim hands out a lease with a fresh epoch, and every write an
// executing instance makes names that Lease, so that an instance whose
// lease was taken over (it stalled past the lease, another instance
// reclaimed the run) can no longer change anything (fencing). A finished
// run (completed, failed, cancelled, timed_out) never changes status again,
// except that RunRetry may turn a failed run back to pending.
type PipelineRunStore interface {
	// RunCreate inserts a pending run whose ID the caller chose, with no
	// owner; ECONFLICT when the id exists, ENOTFOUND when the pipeline does
	// not, EINVALID when its JSON is not valid.
	RunCreate(ctx context.Context, r PipelineRun) error
	// RunGet returns a run or ENOTFOUND.
	RunGet(ctx context.Context, id string) (PipelineRun, error)
	// RunList returns a page of the runs that match, newest first (by
	// CreatedAt, then ID), and the total count of matches; EINVALID for an
	// unknown status.
	RunList(ctx context.Context, f RunFilter, p Page) ([]PipelineRun, int, error)
	// RunCountUnfinished counts a pipeline's runs that are not finished.
	RunCountUnfinished(ctx context.Context, pipelineID int64) (int, error)

	// RunClaim takes the lease of the oldest run (by CreatedAt, then ID)
	// that needs an owner: a pending run, or a running or waiting_approval
	// run whose lease ended before now. The run gets owner, the next epoch
	// and a lease until leaseUntil; a pending run becomes running, with
	// StartedAt now. It returns the claimed run, or ENOTFOUND when no run
	// needs an owner. Two concurrent claims never take the same run.
	RunClaim(ctx context.Context, owner string, now, leaseUntil time.Time) (PipelineRun, error)
	// RunHeartbeat extends to leaseUntil the lease of each listed run that
	// lease still holds (same owner and epoch, run not finished), and
	// returns the run ids of the leases it could not extend, sorted: runs
	// that finished (a cancel) or were reclaimed meanwhile.
	RunHeartbeat(ctx context.Context, leases []Lease, leaseUntil time.Time) ([]string, error)
	// RunRelease gives up a lease that still holds: the run keeps its
	// status but has no owner and its lease ends at now, so the next
	// RunClaim on any instance takes it. A lease that no longer holds is
	// not an error.
	RunRelease(ctx context.Context, l Lease, now time.Time) error
	// RunSetStatus moves a run held by l between running and
	// waiting_approval; ECONFLICT when the lease no longer holds (or the
	// run finished), EINVALID for another status.
	RunSetStatus(ctx context.Context, l Lease, status RunStatus) error
	// RunFinish gives an unfinished run its final status (completed,
	// failed, cancelled or timed_out), error and FinishedAt, ends its lease,
	// and in the same transaction gives the node attempts still running the
	// status e.Running and those still pending the status e.Pending
	// (finished at e.At). With e.Lease set it applies only while that lease
	// holds; without it (a cancel from the API), whoever owns the run. It
	// returns the run as it is after the call and whether this call
	// finished it: false when the run was already finished or the lease no
	// longer holds. ENOTFOUND when there is no such run.
	RunFinish(ctx context.Context, e RunEnd) (PipelineRun, bool, error)
	// RunRetry turns a failed run back to pending (no owner, no error, no
	// StartedAt or FinishedAt: its timeout counts again from its next
	// claim) and inserts a pending next attempt for every node whose
	// latest attempt is failed, cancelled or timed_out, all in one
	// transaction. ENOTFOUND when there is no such run, ECONFLICT when it
	// is not failed.
	RunRetry(ctx context.Context, id string) (PipelineRun, error)

	// NodeRunsCreate inserts node attempts of a run held by l, in one
	// statement or transaction; ECONFLICT when the lease no longer holds or
	// an attempt (run, node, attempt) exists, EINVALID when Input or Output
	// is neither nil nor valid JSON.
	NodeRunsCreate(ctx context.Context, l Lease, runs []NodeRun) error
	// NodeRunUpdate writes Status, Input, Output, ErrorCode, Error,
	// StartedAt, FinishedAt and the usage of attempt (RunID, NodeID,
	// Attempt), only while l holds and the stored attempt is pending or
	// running; ECONFLICT otherwise (ENOTFOUND when there is no such
	// attempt). A concurrent RunFinish and NodeRunUpdate never both win: a
	// node attempt of a finished run cannot become completed.
	NodeRunUpdate(ctx context.Context, l Lease, n NodeRun) error
	// NodeRunList returns every attempt of a run's nodes, by node id (byte
	// order), then attempt.
	NodeRunList(ctx context.Context, runID string) ([]NodeRun, error)

	// ApprovalEnsure inserts the approval of a node of a run held by l
	// unless it exists, and returns the stored approval either way (an
	// existing one unchanged); ECONFLICT when the lease no longer holds.
	ApprovalEnsure(ctx context.Context, l Lease, a Approval) (Approval, error)
	// ApprovalDecide records a decision on a pending approval (not decided,
	// not expired at a.DecidedAt) and returns it; ENOTFOUND when there is no
	// such approval, ECONFLICT when it was decided or has expired.
	ApprovalDecide(ctx context.Context, a Approval) (Approval, error)
	// ApprovalList returns a run's approvals by node id.
	ApprovalList(ctx context.Context, runID string) ([]Approval, error)
}

// RunStatus is where a pipeline run is in its life.
type RunStatus string

// The run statuses; the last four are final.
const (
	RunPending         RunStatus = "pending"
	RunRunning         RunStatus = "running"
	RunWaitingApproval RunStatus = "waiting_approval"
	RunCompleted       RunStatus = "completed"
	RunFailed          RunStatus = "failed"
	RunCancelled       RunStatus = "cancelled"
	RunTimedOut        RunStatus = "timed_out"
)

// Final reports whether s is a finished run's status.
func (s RunStatus) Final() bool {
	switch s {
	case RunCompleted, RunFailed, RunCancelled, RunTimedOut:
		return true
	}
	return false
}

// NodeStatus is where a node attempt is in its life.
type NodeStatus string

// The node attempt statuses; the last five are final.
const (
	NodePending   NodeStatus = "pending"
	NodeRunning   NodeStatus = "running"
	NodeCompleted NodeStatus = "completed"
	NodeFailed    NodeStatus = "failed"
	NodeSkipped   NodeStatus = "skipped"
	NodeCancelled NodeStatus = "cancelled"
	NodeTimedOut  NodeStatus = "timed_out"
)

// Final reports whether s is a finished attempt's status.
func (s NodeStatus) Final() bool { return s != NodePending && s != NodeRunning }

// runStatuses and nodeStatuses are every status of a run and of a node
// attempt.
var (
	runStatuses = []RunStatus{RunPending, RunRunning, RunWaitingApproval, RunCompleted, RunFailed, RunCancelled,
		RunTimedOut}
	nodeStatuses = []NodeStatus{NodePending, NodeRunning, NodeCompleted, NodeFailed, NodeSkipped, NodeCancelled,
		NodeTimedOut}
)

// PipelineRun is one execution of a pipeline. It keeps the definition it
// runs (Nodes, Edges, Settings, verbatim as of its creation), so editing
// the pipeline does not change runs already started.
type PipelineRun struct {
	ID              string
	PipelineID      int64
	PipelineVersion int64
	Nodes           json.RawMessage
	Edges           json.RawMessage
	Settings        json.RawMessage
	Status          RunStatus
	TriggerData     json.RawMessage // JSON; "null" when none
	ErrorCode       string
	Error           string
	CreatedBy       int64 // 0 when unknown
	CreatedAt       time.Time
	StartedAt       time.Time // zero until first claimed
	FinishedAt      time.Time // zero until finished
	Owner           string    // instance holding the lease; "" when none
	Epoch           int64     // grows by one at each claim
	LeaseUntil      time.Time // zero when never claimed
}

// Lease names one claim of a run: the instance and the epoch RunClaim gave.
type Lease struct {
	RunID string
	Owner string
	Epoch int64
}

// LeaseOf returns the lease a claimed run carries.
func LeaseOf(r PipelineRun) Lease { return Lease{RunID: r.ID, Owner: r.Owner, Epoch: r.Epoch} }

// RunFilter selects runs; zero fields match everything.
type RunFilter struct {
	PipelineID int64
	Status     RunStatus
}

// RunEnd finishes a run; see RunFinish.
type RunEnd struct {
	RunID     string
	Lease     *Lease // nil: whoever owns the run
	Status    RunStatus
	ErrorCode string
	Error     string
	At        time.Time
	Running   NodeStatus // for attempts still running
	Pending   NodeStatus // for attempts still pending
}

// NodeRun is one attempt of one node of a run.
type NodeRun struct {
	RunID        string
	NodeID       string
	Attempt      int // 1 for the first
	Status       NodeStatus
	Input        json.RawMessage // nil when none
	Output       json.RawMessage // nil when none
	ErrorCode    string
	Error        string
	StartedAt    time.Time // zero when it never started
	FinishedAt   time.Time // zero until finished
	InputTokens  int64
	OutputTokens int64
	Cost         float64
}

// Approval is the human decision an approval node waits for.
type Approval struct {
	RunID       string
	NodeID      string
	Message     string
	RequestedAt time.Time
	ExpiresAt   time.Time // zero: never
	Decided     bool
	Approved    bool
	Comment     string
	DecidedBy   int64 // 0 when undecided
	DecidedAt   time.Time
}

// Check refuses with EINVALID a run whose definition or trigger data is
// not valid JSON.
func (r PipelineRun) Check() error {
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"nodes", r.Nodes}, {"edges", r.Edges}, {"settings", r.Settings}, {"trigger data", r.TriggerData}} {
		if !ValidJSON(f.raw) {
			return gathering.Errorf(gathering.EINVALID, "run %s: %s are not valid JSON", r.ID, f.name)
		}
	}
	return nil
}

// CheckRunOwner refuses with EINVALID an empty owner claiming a run, of a
// pipeline or of a schedule.
func CheckRunOwner(owner string) error {
	if owner == "" {
		return gathering.Errorf(gathering.EINVALID, "a run's owner must not be empty")
	}
	return nil
}

// LostLeases returns the run ids of the leases that are not kept, sorted
// and without repeats: what a heartbeat answers when it extended kept.
func LostLeases(leases, kept []Lease) []string {
	var lost []string
	for _, l := range leases {
		if !slices.Contains(kept, l) {
			lost = append(lost, l.RunID)
		}
	}
	slices.Sort(lost)
	return slices.Compact(lost)
}

// Check refuses with EINVALID a filter of an unknown status.
func (f RunFilter) Check() error {
	if f.Status != "" && !slices.Contains(runStatuses, f.Status) {
		return gathering.Errorf(gathering.EINVALID, "run status %q is unknown", f.Status)
	}
	return nil
}

// Check refuses with EINVALID an end whose status is not final or that
// gives attempts a status that is not final.
func (e RunEnd) Check() error {
	if !e.Status.Final() {
		return gathering.Errorf(gathering.EINVALID, "run %s cannot finish as %q", e.RunID, e.Status)
	}
	for _, s := range []NodeStatus{e.Running, e.Pending} {
		if !slices.Contains(nodeStatuses, s) || !s.Final() {
			return gathering.Errorf(gathering.EINVALID, "run %s: attempts cannot finish as %q", e.RunID, s)
		}
	}
	return nil
}

// CanFinish reports whether e may finish r: r is not finished and, when
// e.Lease is set, that lease holds (r is claimed, with its owner and
// epoch).
func (e RunEnd) CanFinish(r PipelineRun) bool {
	if r.Status.Final() {
		return false
	}
	l := e.Lease
	return l == nil || (r.Owner == l.Owner && r.Epoch == l.Epoch && r.Status != RunPending)
}

// Check refuses with EINVALID an attempt written under l that is not of
// the run of l, has no known status or no positive number, or whose input
// or output is neither nil nor valid JSON.
func (n NodeRun) Check(l Lease) error {
	switch {
	case n.RunID != l.RunID:
		return gathering.Errorf(gathering.EINVALID, "attempt of run %s under the lease of run %s", n.RunID, l.RunID)
	case !slices.Contains(nodeStatuses, n.Status):
		return gathering.Errorf(gathering.EINVALID, "node %s: unknown status %q", n.NodeID, n.Status)
	case n.Attempt < 1:
		return gathering.Errorf(gathering.EINVALID, "node %s: attempt %d is not positive", n.NodeID, n.Attempt)
	case n.Input != nil && !ValidJSON(n.Input), n.Output != nil && !ValidJSON(n.Output):
		return gathering.Errorf(gathering.EINVALID, "node %s: input or output is not valid JSON", n.NodeID)
	}
	return nil
}
