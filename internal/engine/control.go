package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/pipeline"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// controlType is the event that carries a cancel, an approval decision or
// a new run to the other instances. Subscribers to pipeline.* see it too;
// it holds only ids.
const controlType = "pipeline.run.control"

// The operations of a control message.
const (
	opWake     = "wake"     // a run needs an owner
	opCancel   = "cancel"   // a run was cancelled: abort its nodes
	opDecision = "decision" // an approval of a run was decided
)

// control is the payload of a control event.
type control struct {
	Op    string `json:"op"`
	RunID string `json:"run_id"`
}

// announce tells every instance, this one included, about c.
func (e *Engine) announce(ctx context.Context, c control, run store.PipelineRun) {
	e.apply(c)
	if e.bus == nil {
		return
	}
	data, _ := json.Marshal(c)
	if _, err := e.bus.Publish(ctx, event.Event{Type: controlType, Topics: topics(run), Data: data}); err != nil {
		e.opts.Logger.Warn("announcing a pipeline run change failed", "op", c.Op, "run_id", c.RunID, "err", err)
	}
}

// takeControl applies a control event heard on the bus.
func (e *Engine) takeControl(f event.Frame) {
	var c control
	if f.Kind != event.KindEvent || f.Event.Origin == e.bus.Instance() || json.Unmarshal(f.Event.Data, &c) != nil {
		return
	}
	e.apply(c)
}

// apply acts on a control message in this instance.
func (e *Engine) apply(c control) {
	switch c.Op {
	case opWake:
		e.signal()
	case opCancel:
		e.drivers.Cancel(c.RunID, errCancelled)
	case opDecision:
		if d, ok := e.drivers.Get(c.RunID); ok {
			d.poke()
		}
	}
}

// InvalidError is the refusal of a run of an invalid definition.
type InvalidError struct{ Problems []pipeline.Problem }

func (e *InvalidError) Error() string {
	return fmt.Sprintf("the pipeline definition has %d problems", len(e.Problems))
}

// Check validates a pipeline's definition against the agents in db and
// the tools in reg as they are now: the check a run must pass.
func Check(ctx context.Context, db store.AgentStore, reg *tool.Registry, p store.Pipeline) []pipeline.Problem {
	return pipeline.Check(p.Nodes, p.Edges, p.Settings, pipeline.Refs{
		Agent: func(id int64) bool { _, err := db.AgentGet(ctx, id); return err == nil },
		Tool:  func(name string) bool { _, ok := reg.Get(name); return ok },
	})
}

// Submit records a pending run of a pipeline with trigger (JSON; empty
// means null) started by userID, and wakes the engines to execute it. A
// paused pipeline is ECONFLICT; an invalid definition is an *InvalidError.
func (e *Engine) Submit(ctx context.Context, pipelineID int64, trigger json.RawMessage, userID int64) (store.PipelineRun, error) {
	p, err := e.db.PipelineGet(ctx, pipelineID)
	if err != nil {
		return store.PipelineRun{}, err
	}
	if p.Status == store.PipelinePaused {
		return store.PipelineRun{}, gathering.Errorf(gathering.ECONFLICT, "The pipeline %q is paused; resume it to run it.", p.Name)
	}
	if problems := Check(ctx, e.db, e.tools.Registry(), p); len(problems) > 0 {
		return store.PipelineRun{}, &InvalidError{Problems: problems}
	}
	if len(trigger) == 0 {
		trigger = json.RawMessage("null")
	}
	now := time.Now()
	run := store.PipelineRun{
		ID: event.NewID(now), PipelineID: p.ID, PipelineVersion: p.Version,
		Nodes: p.Nodes, Edges: p.Edges, Settings: p.Settings,
		Status: store.RunPending, TriggerData: trigger, CreatedBy: userID, CreatedAt: now,
	}
	if err := e.db.RunCreate(ctx, run); err != nil {
		return store.PipelineRun{}, err
	}
	e.announce(ctx, control{Op: opWake, RunID: run.ID}, run)
	return run, nil
}

// Cancel cancels an unfinished run wherever it executes: the run and its
// unfinished node attempts become cancelled at once, and the instance
// driving it aborts the nodes' contexts. ECONFLICT when it already
// finished.
func (e *Engine) Cancel(ctx context.Context, runID string) (store.PipelineRun, error) {
	run, changed, err := e.db.RunFinish(ctx, store.RunEnd{
		RunID: runID, Status: store.RunCancelled, Error: "Cancelled by a user.", At: time.Now(),
		Running: store.NodeCancelled, Pending: store.NodeCancelled,
	})
	if err != nil {
		return run, err
	}
	if !changed {
		return run, gathering.Errorf(gathering.ECONFLICT, "The run already finished: it is %s.", run.Status)
	}
	e.announce(ctx, control{Op: opCancel, RunID: runID}, run)
	e.publishRun(ctx, run)
	return run, nil
}

// Retry resumes a failed run from its failed and cancelled nodes; nodes
// that completed are not run again. ECONFLICT when the run is not failed.
func (e *Engine) Retry(ctx context.Context, runID string) (store.PipelineRun, error) {
	run, err := e.db.RunRetry(ctx, runID)
	if err != nil {
		return run, err
	}
	e.announce(ctx, control{Op: opWake, RunID: runID}, run)
	return run, nil
}

// Decide records a user's decision on a waiting approval node of a run and
// wakes the run. ENOTFOUND when the node has no approval waiting in that
// run, ECONFLICT when it was decided already or expired, or the run
// finished.
func (e *Engine) Decide(ctx context.Context, runID, nodeID string, approved bool, comment string, userID int64) (store.Approval, error) {
	run, err := e.db.RunGet(ctx, runID)
	if err != nil {
		return store.Approval{}, err
	}
	if run.Status.Final() {
		return store.Approval{}, gathering.Errorf(gathering.ECONFLICT, "The run already finished: it is %s.", run.Status)
	}
	a, err := e.db.ApprovalDecide(ctx, store.Approval{
		RunID: runID, NodeID: nodeID, Approved: approved, Comment: comment, DecidedBy: userID, DecidedAt: time.Now(),
	})
	if err != nil {
		return a, err
	}
	e.announce(ctx, control{Op: opDecision, RunID: runID}, run)
	return a, nil
}

// topics are the topics of a run's events.
func topics(run store.PipelineRun) []string {
	return []string{"pipeline:" + strconv.FormatInt(run.PipelineID, 10), "run:" + run.ID}
}

// runEvent is the data of a pipeline.run.* event.
type runEvent struct {
	RunID      string `json:"run_id"`
	PipelineID int64  `json:"pipeline_id"`
	Status     string `json:"status"`
	ErrorCode  string `json:"error_code,omitempty"`
	Error      string `json:"error,omitempty"`
}

// runEventOf is the event data of run as it is now.
func runEventOf(run store.PipelineRun) runEvent {
	return runEvent{RunID: run.ID, PipelineID: run.PipelineID, Status: string(run.Status), ErrorCode: run.ErrorCode, Error: run.Error}
}

// publishRun publishes pipeline.run.<status> for run.
func (e *Engine) publishRun(ctx context.Context, run store.PipelineRun) {
	e.publish(ctx, "pipeline.run."+string(run.Status), run, runEventOf(run))
}

// publish publishes one event about run, when there is a bus.
func (e *Engine) publish(ctx context.Context, typ string, run store.PipelineRun, data any) {
	if e.bus == nil {
		return
	}
	raw, err := json.Marshal(data)
	if err == nil {
		actor := ""
		if run.CreatedBy != 0 {
			actor = "user:" + strconv.FormatInt(run.CreatedBy, 10)
		}
		_, err = e.bus.Publish(context.WithoutCancel(ctx), event.Event{Type: typ, Topics: topics(run), Actor: actor, Data: raw})
	}
	if err != nil {
		e.opts.Logger.Warn("publishing a pipeline event failed", "type", typ, "run_id", run.ID, "err", err)
	}
}
