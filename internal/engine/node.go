package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/pipeline"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// job is one node to execute, prepared by the driver's goroutine so that
// the node's goroutine reads no shared state.
type job struct {
	node        pipeline.Node
	attempt     int       // the number of the next attempt
	pending     bool      // that attempt is recorded as pending already
	interrupted int       // an attempt left running by a dead instance; 0 when none
	startedAt   time.Time // when that attempt started
	env         pipeline.Env
}

// job prepares the execution of node n.
func (d *driver) job(n pipeline.Node) job {
	s := d.nodes[n.ID]
	j := job{node: n, attempt: s.attempt, pending: s.status == store.NodePending, env: d.env(d.inputs(n.ID))}
	if s.status == store.NodeRunning {
		j.interrupted, j.startedAt, j.attempt = s.attempt, s.started, s.attempt+1
	}
	if !j.pending && j.interrupted == 0 {
		j.attempt++
	}
	return j
}

// outcome is what one attempt produced.
type outcome struct {
	out   json.RawMessage
	usage store.NodeRun // only the token and cost fields
}

// execute runs a node through its attempts and returns how it ended.
func (d *driver) execute(j job) result {
	n := j.node
	fail := func(err error) result { return result{id: n.ID, err: err} }
	if j.interrupted > 0 {
		lost := store.NodeRun{RunID: d.run.ID, NodeID: n.ID, Attempt: j.interrupted, Status: store.NodeFailed,
			ErrorCode: gathering.EUNAVAILABLE, Error: "The instance running this attempt stopped.",
			StartedAt: j.startedAt, FinishedAt: time.Now()}
		if err := d.e.db.NodeRunUpdate(d.ctx, d.lease, lost); err != nil {
			return d.lost(n, err)
		}
	}
	input, err := d.input(n, j.env)
	var report func(exhausted bool)
	if err == nil {
		report, err = d.e.breakers.allow(d.target(n, input))
	}
	if err != nil {
		a := d.attempt(j, input)
		if werr := d.record(&j, a); werr != nil {
			return d.lost(n, werr)
		}
		return fail(d.end(j, a, outcome{}, permanent(err), true))
	}
	policy := n.Policy(d.settings)
	for try := 1; ; try++ {
		a := d.attempt(j, input)
		if err := d.record(&j, a); err != nil {
			return d.lost(n, err)
		}
		d.publishNode("started", n.ID, a.Attempt, nil)
		o, err := d.body(n, input, j.env)
		if d.ctx.Err() != nil || errors.Is(err, errShutdown) {
			return fail(cmpErr(context.Cause(d.ctx), errShutdown)) // the run's end records the attempt
		}
		last := err == nil || !retryable(err) || try >= policy.MaxAttempts
		if err = d.end(j, a, o, err, last); errors.Is(err, errLeaseLost) {
			return fail(err)
		}
		if last {
			report(err != nil && retryable(err))
			if err != nil {
				return fail(err)
			}
			var out any
			_ = json.Unmarshal(o.out, &out)
			return result{id: n.ID, out: out}
		}
		if err := d.retryLater(&j, policy, try, err); err != nil {
			return fail(err)
		}
	}
}

// cmpErr returns err, or fallback when err is nil.
func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// lost ends a node whose write was refused: the lease no longer holds or
// the database failed, so the driver stops and the run is left to its new
// owner (or to a reclaim once the lease ends).
func (d *driver) lost(n pipeline.Node, err error) result {
	d.e.opts.Logger.Warn("a pipeline node could not record its attempt; the run stops here", "run_id", d.run.ID,
		"node_id", n.ID, "err", err)
	d.cancel(errLeaseLost)
	return result{id: n.ID, err: errLeaseLost}
}

// attempt is the record of the start of j's next attempt.
func (d *driver) attempt(j job, input json.RawMessage) store.NodeRun {
	return store.NodeRun{RunID: d.run.ID, NodeID: j.node.ID, Attempt: j.attempt, Status: store.NodeRunning,
		Input: tool.Redact(input), StartedAt: time.Now()}
}

// record writes the start of an attempt: over its pending record, or as a
// new one.
func (d *driver) record(j *job, a store.NodeRun) error {
	if j.pending {
		j.pending = false
		return d.e.db.NodeRunUpdate(d.ctx, d.lease, a)
	}
	return d.e.db.NodeRunsCreate(d.ctx, d.lease, []store.NodeRun{a})
}

// end records how attempt a ended and, when it is the node's last,
// announces it; it returns the attempt's error, or errLeaseLost when the
// record was refused.
func (d *driver) end(j job, a store.NodeRun, o outcome, err error, last bool) error {
	a.FinishedAt = time.Now()
	a.InputTokens, a.OutputTokens, a.Cost = o.usage.InputTokens, o.usage.OutputTokens, o.usage.Cost
	status := "completed"
	switch {
	case err == nil:
		a.Status, a.Output = store.NodeCompleted, o.out
	case gathering.ErrorCode(err) == gathering.ETIMEOUT:
		a.Status, status = store.NodeTimedOut, "failed"
	default:
		a.Status, status = store.NodeFailed, "failed"
	}
	if err != nil {
		a.ErrorCode, a.Error = gathering.ErrorCode(err), gathering.ErrorMessage(err)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(d.ctx), writeTimeout)
	defer cancel()
	if werr := d.e.db.NodeRunUpdate(ctx, d.lease, a); werr != nil {
		d.lost(j.node, werr)
		return errLeaseLost
	}
	if last {
		d.publishNode(status, j.node.ID, a.Attempt, map[string]any{
			"duration_ms": a.FinishedAt.Sub(a.StartedAt).Milliseconds(), "error": a.Error, "error_code": a.ErrorCode,
		})
	}
	return err
}

// retryLater records the pending next attempt of a node whose attempt try
// failed with cause, announces it and waits the policy's delay.
func (d *driver) retryLater(j *job, policy pipeline.RetryPolicy, try int, cause error) error {
	delay := backoff(policy, try, d.e.opts.Jitter())
	j.attempt++
	next := store.NodeRun{RunID: d.run.ID, NodeID: j.node.ID, Attempt: j.attempt, Status: store.NodePending}
	if err := d.e.db.NodeRunsCreate(d.ctx, d.lease, []store.NodeRun{next}); err != nil {
		d.lost(j.node, err)
		return errLeaseLost
	}
	j.pending = true
	d.publishNode("retrying", j.node.ID, j.attempt, map[string]any{
		"failed_attempt": try, "delay_seconds": delay.Seconds(), "error": gathering.ErrorMessage(cause),
	})
	if err := d.e.opts.Sleep(d.ctx, delay); err != nil {
		return context.Cause(d.ctx)
	}
	return nil
}

// publishNode publishes pipeline.node.<status> about one attempt.
func (d *driver) publishNode(status, nodeID string, attempt int, extra map[string]any) {
	data := map[string]any{
		"run_id": d.run.ID, "pipeline_id": d.run.PipelineID, "node_id": nodeID, "attempt": attempt, "status": status,
	}
	for k, v := range extra {
		if v != "" {
			data[k] = v
		}
	}
	d.e.publish(d.ctx, "pipeline.node."+status, d.run, data)
}

// body runs one attempt of a node under its timeout.
func (d *driver) body(n pipeline.Node, input json.RawMessage, env pipeline.Env) (outcome, error) {
	ctx := d.ctx
	if n.TimeoutSeconds != nil && *n.TimeoutSeconds > 0 {
		limit := time.Duration(*n.TimeoutSeconds) * time.Second
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, limit,
			gathering.Errorf(gathering.ETIMEOUT, "The node did not finish within %s.", limit))
		defer cancel()
	}
	o, err := d.kind(ctx, n, input, env)
	if err != nil && ctx.Err() != nil && d.ctx.Err() == nil {
		err = context.Cause(ctx) // the node's own timeout
	}
	return o, err
}

// kind runs the part of an attempt that depends on the node's type.
func (d *driver) kind(ctx context.Context, n pipeline.Node, input json.RawMessage, env pipeline.Env) (outcome, error) {
	switch n.Type {
	case pipeline.TypeTrigger:
		return outcome{out: d.run.TriggerData}, nil
	case pipeline.TypeParallel, pipeline.TypeJoin:
		return outcome{out: input}, nil
	case pipeline.TypeCondition:
		ok, err := d.programs[n.ID].Eval(env)
		if err != nil {
			return outcome{}, permanent(gathering.Errorf(gathering.EINVALID, "The condition failed: %v", err))
		}
		return marshalOutcome(map[string]any{"result": ok})
	case pipeline.TypeDelay:
		return d.delay(ctx, n)
	case pipeline.TypeTool:
		var cfg struct{ Tool string }
		_ = json.Unmarshal(n.Config, &cfg)
		out, err := d.callTool(ctx, n.ID, cfg.Tool, input)
		return outcome{out: out}, err
	case pipeline.TypeAction:
		return d.action(ctx, n, input)
	case pipeline.TypeAgent:
		return d.agent(ctx, input)
	case pipeline.TypeApproval:
		return d.approval(ctx, n)
	}
	return outcome{}, permanent(gathering.Errorf(gathering.EINVALID, "The node type %q cannot run.", n.Type))
}

// marshalOutcome is the outcome whose output is v.
func marshalOutcome(v any) (outcome, error) {
	out, err := json.Marshal(v)
	return outcome{out: out}, err
}

// delay waits the node's seconds, or until the run ends or the engine
// stops (the delay then starts again on the run's next owner).
func (d *driver) delay(ctx context.Context, n pipeline.Node) (outcome, error) {
	var cfg struct{ Seconds float64 }
	_ = json.Unmarshal(n.Config, &cfg)
	wait := time.Duration(cfg.Seconds * float64(time.Second))
	ctx, stop := d.untilStopping(ctx)
	defer stop()
	if err := d.e.opts.Sleep(ctx, wait); err != nil {
		return outcome{}, err
	}
	return marshalOutcome(map[string]any{"waited_seconds": cfg.Seconds})
}

// untilStopping returns ctx that also ends, with errShutdown, when the
// engine starts stopping: waits end at once instead of holding the
// shutdown.
func (d *driver) untilStopping(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() { // ends with ctx, which the returned func cancels
		select {
		case <-d.e.drivers.Stopping():
			cancel(errShutdown)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

// errorOf turns a finished tool execution that did not succeed into its
// error.
func errorOf(e store.ToolExecution) error {
	switch e.Status {
	case store.ToolCancelled:
		return permanent(gathering.Errorf(gathering.ECONFLICT, "The tool execution %s was %s.", e.ID, cmp.Or(e.Reason, "cancelled")))
	case store.ToolTimedOut:
		return gathering.Errorf(gathering.ETIMEOUT, "%s", cmp.Or(e.Error, "The tool ran out of time."))
	}
	return gathering.Errorf(cmp.Or(e.ErrorCode, gathering.EINTERNAL), "%s", cmp.Or(e.Error, "The tool failed."))
}

// callTool runs a tool through the executor as the run's creator, with the
// node's idempotency key, and waits for a background execution to end (a
// dangerous tool waits for its confirmation). Ending the node's context
// cancels it.
func (d *driver) callTool(ctx context.Context, nodeID, name string, input json.RawMessage) (json.RawMessage, error) {
	ctx = tool.WithIdempotencyKey(ctx, d.run.ID+":"+nodeID)
	e, err := d.e.tools.ExecuteAndWait(ctx, tool.Request{Tool: name, Input: input, Caller: tool.UserCaller(d.role), UserID: d.run.CreatedBy})
	if err != nil {
		return nil, err
	}
	if e.Status != store.ToolSucceeded {
		return nil, errorOf(e)
	}
	return e.Output, nil
}

// action runs a send_notification or call_api action through the notify
// or http tool. A call_api answer of 429 or 5xx is a retryable failure,
// any other answer of 400 or more a permanent one.
func (d *driver) action(ctx context.Context, n pipeline.Node, input json.RawMessage) (outcome, error) {
	name := actionTool(n)
	out, err := d.callTool(ctx, n.ID, name, input)
	if err != nil || name != "http.request" {
		return outcome{out: out}, err
	}
	var resp struct{ Status int }
	_ = json.Unmarshal(out, &resp)
	switch {
	case resp.Status == 429 || resp.Status >= 500:
		return outcome{out: out}, gathering.Errorf(gathering.EUNAVAILABLE, "The API answered with status %d.", resp.Status)
	case resp.Status >= 400:
		return outcome{out: out}, permanent(gathering.Errorf(gathering.EINVALID, "The API answered with status %d.", resp.Status))
	}
	return outcome{out: out}, nil
}

// actionTool is the tool an action node calls.
func actionTool(n pipeline.Node) string {
	var cfg struct{ Action string }
	_ = json.Unmarshal(n.Config, &cfg)
	if cfg.Action == "send_notification" {
		return "notify.webhook"
	}
	return "http.request"
}
