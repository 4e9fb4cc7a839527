package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/pipeline"
	"github.com/gathering/gathering/internal/store"
)

// errRunTimeout ends a run that ran past its timeout.
var errRunTimeout = errors.New("the run ran past its timeout")

// driver executes one claimed run until it finishes, its lease is lost or
// the engine stops.
type driver struct {
	e     *Engine
	run   store.PipelineRun
	lease store.Lease

	ctx    context.Context // the run's; nodes run under it
	cancel context.CancelCauseFunc

	// Set up by prepare.
	def      pipeline.Definition
	graph    *pipeline.Graph
	settings pipeline.Settings
	programs map[string]*pipeline.Program // by condition node id and by edge id
	trigger  any
	role     gathering.Role
	nodes    map[string]*nodeState

	mu      sync.Mutex    // guards waiting and pokeCh
	waiting int           // approval nodes waiting now
	pokeCh  chan struct{} // closed when an approval of the run is decided
}

// nodeState is what the driver knows of one node.
type nodeState struct {
	attempt int              // the latest attempt's number; 0 before any
	status  store.NodeStatus // the latest attempt's status; "" before any
	started time.Time        // when the latest attempt started
	running bool             // a goroutine executes it now
	done    bool             // it will not run again in this run
	live    bool             // done, and its outgoing edges may be live
	output  any              // what successors see of it
	errMsg  string
}

// result is how a node's goroutine ended.
type result struct {
	id  string
	out any
	err error // nil, or the failure after its attempts
}

func newDriver(e *Engine, run store.PipelineRun) *driver {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &driver{
		e: e, run: run, lease: store.LeaseOf(run), ctx: ctx, cancel: cancel,
		pokeCh: make(chan struct{}), nodes: map[string]*nodeState{},
	}
}

// poke wakes the approval nodes waiting in this run.
func (d *driver) poke() {
	d.mu.Lock()
	defer d.mu.Unlock()
	close(d.pokeCh)
	d.pokeCh = make(chan struct{})
}

// poked returns the channel the next poke closes.
func (d *driver) poked() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pokeCh
}

// drive executes the run to its end.
func (d *driver) drive() {
	defer d.cancel(nil)
	if err := d.prepare(); err != nil {
		if !errors.As(err, new(permanentError)) {
			d.e.opts.Logger.Warn("resuming a pipeline run failed", "run_id", d.run.ID, "err", err)
			d.release()
			return
		}
		d.fail(nil, err)
		return
	}
	deadline := d.run.StartedAt.Add(time.Duration(d.settings.TimeoutSeconds) * time.Second)
	ctx, stop := context.WithDeadlineCause(d.ctx, deadline, errRunTimeout)
	defer stop()
	d.ctx = ctx
	d.schedule()
}

// prepare decodes the run's definition and loads its node attempts. A run
// that never started records a pending first attempt of every node.
func (d *driver) prepare() error {
	var problems []pipeline.Problem
	d.def, problems = pipeline.Parse(d.run.Nodes, d.run.Edges, d.run.Settings)
	if len(problems) > 0 {
		return permanent(gathering.Errorf(gathering.EINVALID, "The run's definition is invalid: %s", problems[0].Message))
	}
	d.graph, d.settings = pipeline.NewGraph(d.def), d.def.Settings.WithDefaults()
	if err := d.compile(); err != nil {
		return err
	}
	if err := json.Unmarshal(d.run.TriggerData, &d.trigger); err != nil {
		return permanent(gathering.Errorf(gathering.EINVALID, "The run's trigger data is not valid JSON."))
	}
	d.role = d.creatorRole()
	attempts, err := d.e.db.NodeRunList(d.ctx, d.run.ID)
	if err != nil {
		return err
	}
	for _, n := range d.def.Nodes {
		d.nodes[n.ID] = &nodeState{}
	}
	if len(attempts) == 0 {
		return d.start()
	}
	for _, a := range attempts { // by node, then attempt: the last one wins
		if s := d.nodes[a.NodeID]; s != nil {
			d.restore(s, a)
		}
	}
	return nil
}

// compile compiles the condition nodes' and the edges' expressions.
func (d *driver) compile() error {
	d.programs = map[string]*pipeline.Program{}
	add := func(key, src string) error {
		p, err := pipeline.Compile(src)
		if err != nil {
			return permanent(gathering.Errorf(gathering.EINVALID, "The condition of %s does not compile: %v", key, err))
		}
		d.programs[key] = p
		return nil
	}
	for _, n := range d.def.Nodes {
		if n.Type == pipeline.TypeCondition {
			var cfg struct{ Expression string }
			if err := json.Unmarshal(n.Config, &cfg); err != nil {
				return permanent(err)
			}
			if err := add(n.ID, cfg.Expression); err != nil {
				return err
			}
		}
	}
	for _, e := range d.def.Edges {
		if e.Condition != "" {
			if err := add(e.ID, e.Condition); err != nil {
				return err
			}
		}
	}
	return nil
}

// creatorRole is the role of the user who started the run, whose rights
// the run's tool calls have: viewer when the user is gone or inactive.
func (d *driver) creatorRole() gathering.Role {
	if d.run.CreatedBy == 0 {
		return gathering.RoleViewer
	}
	u, err := d.e.db.UserGetByID(d.ctx, d.run.CreatedBy)
	if err != nil || !u.IsActive {
		return gathering.RoleViewer
	}
	return u.Role
}

// start records the pending first attempt of every node and announces the
// run.
func (d *driver) start() error {
	attempts := make([]store.NodeRun, 0, len(d.def.Nodes))
	for _, n := range d.def.Nodes {
		attempts = append(attempts, store.NodeRun{RunID: d.run.ID, NodeID: n.ID, Attempt: 1, Status: store.NodePending})
		d.nodes[n.ID].attempt, d.nodes[n.ID].status = 1, store.NodePending
	}
	if err := d.e.db.NodeRunsCreate(d.ctx, d.lease, attempts); err != nil {
		return err
	}
	d.e.publish(d.ctx, "pipeline.run.started", d.run, runEventOf(d.run))
	return nil
}

// restore sets s from a recorded attempt a. An attempt that was running
// belongs to an instance that died: it runs again as the next attempt.
func (d *driver) restore(s *nodeState, a store.NodeRun) {
	*s = nodeState{attempt: a.Attempt, status: a.Status, started: a.StartedAt, errMsg: a.Error}
	switch a.Status {
	case store.NodeCompleted:
		s.done, s.live = true, true
		_ = json.Unmarshal(a.Output, &s.output)
	case store.NodeSkipped:
		s.done = true
	case store.NodeFailed, store.NodeTimedOut, store.NodeCancelled:
		n, _ := d.graph.Node(a.NodeID)
		s.done = true
		s.live, s.output = d.afterFailure(n, a.Error)
	}
}

// afterFailure is how a node that failed for good appears to its
// successors, by its on_error: live with its default output or with its
// error (continue), or not live (fail).
func (d *driver) afterFailure(n pipeline.Node, msg string) (live bool, output any) {
	switch n.OnError {
	case pipeline.OnErrorContinue:
		return true, map[string]any{"status": "failed", "error": msg}
	case pipeline.OnErrorDefault:
		var out any
		_ = json.Unmarshal(n.Default, &out)
		return true, out
	}
	return false, nil
}

// schedule runs ready nodes until every node is done, a node fails the
// run, or the run's context ends; then it finishes or releases the run.
func (d *driver) schedule() {
	results := make(chan result)
	running := 0
	defer func() { // every node goroutine ends before the driver does
		for ; running > 0; running-- {
			<-results
		}
	}()
	if d.failedForGood() {
		return
	}
	stopping := d.e.drivers.Stopping()
	for {
		running += d.launch(results, running)
		if running == 0 {
			d.conclude()
			return
		}
		select {
		case r := <-results:
			running--
			if !d.settle(r) {
				return
			}
		case <-d.ctx.Done():
			d.interrupted()
			return
		case <-stopping: // launch starts nothing more; the last node to end releases the run
			stopping = nil
		}
	}
}

// failedForGood finishes the run when a node already failed with on_error
// fail (its instance died before finishing the run) and reports whether it
// did.
func (d *driver) failedForGood() bool {
	for _, n := range d.def.Nodes {
		if s := d.nodes[n.ID]; s.done && !s.live && s.status != store.NodeSkipped && s.status != "" {
			if n.OnError == "" || n.OnError == pipeline.OnErrorFail {
				d.fail(&n, errors.New(s.errMsg))
				return true
			}
		}
	}
	return false
}

// launch starts the ready nodes (skipping those no live edge reaches) while
// the run has room, and returns how many it started.
func (d *driver) launch(results chan<- result, running int) int {
	started := 0
	if d.ctx.Err() != nil {
		return 0
	}
	for progress := true; progress; {
		progress = false
		for _, n := range d.def.Nodes {
			s := d.nodes[n.ID]
			if s.done || s.running || !d.ready(n.ID) {
				continue
			}
			live, err := d.reached(n.ID)
			if err != nil {
				d.fail(&n, err)
				return started
			}
			if !live {
				d.skip(n)
				progress = true
				continue
			}
			if running+started >= d.settings.MaxParallel || d.isStopping() {
				continue
			}
			s.running = true
			started++
			j := d.job(n)
			go func() { results <- d.execute(j) }()
		}
	}
	return started
}

// ready reports whether every predecessor of a node is done.
func (d *driver) ready(id string) bool {
	for _, p := range d.graph.Predecessors(id) {
		if !d.nodes[p].done {
			return false
		}
	}
	return true
}

// reached reports whether a ready node has a live edge into it (a root
// always has). An edge condition that cannot be evaluated is an error.
func (d *driver) reached(id string) (bool, error) {
	in := d.graph.Incoming(id)
	if len(in) == 0 {
		return true, nil
	}
	for _, e := range in {
		src := d.nodes[e.From]
		if !src.live || d.conditionFalse(e.From) {
			continue
		}
		p := d.programs[e.ID]
		if p == nil {
			return true, nil
		}
		ok, err := p.Eval(d.env(map[string]any{e.From: src.output}))
		if err != nil {
			return false, permanent(gathering.Errorf(gathering.EINVALID, "The condition of edge %s failed: %v", e.ID, err))
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// conditionFalse reports whether id is a condition node that evaluated to
// false, which makes its outgoing edges dead.
func (d *driver) conditionFalse(id string) bool {
	n, _ := d.graph.Node(id)
	if n.Type != pipeline.TypeCondition {
		return false
	}
	out, _ := d.nodes[id].output.(map[string]any)
	return out["result"] != true
}

// env is what expressions and templates see: every finished node, the
// trigger, and input.
func (d *driver) env(input map[string]any) pipeline.Env {
	nodes := make(map[string]pipeline.NodeState, len(d.nodes))
	for id, s := range d.nodes {
		if s.done {
			nodes[id] = pipeline.NodeState{Output: s.output, Status: string(s.status), Error: s.errMsg}
		}
	}
	return pipeline.Env{Nodes: nodes, Trigger: d.trigger, Input: input}
}

// inputs returns the outputs of a node's live predecessors, by node id.
func (d *driver) inputs(id string) map[string]any {
	in := map[string]any{}
	for _, p := range d.graph.Predecessors(id) {
		if s := d.nodes[p]; s.live {
			in[p] = s.output
		}
	}
	return in
}

// skip records a node that no live edge reaches.
func (d *driver) skip(n pipeline.Node) {
	s := d.nodes[n.ID]
	s.done, s.status = true, store.NodeSkipped
	now := time.Now()
	a := store.NodeRun{RunID: d.run.ID, NodeID: n.ID, Attempt: max(s.attempt, 1), Status: store.NodeSkipped, StartedAt: now, FinishedAt: now}
	var err error
	if s.attempt == 0 {
		err = d.e.db.NodeRunsCreate(d.ctx, d.lease, []store.NodeRun{a})
	} else {
		err = d.e.db.NodeRunUpdate(d.ctx, d.lease, a)
	}
	s.attempt = a.Attempt
	if err != nil {
		d.e.opts.Logger.Warn("recording a skipped node failed", "run_id", d.run.ID, "node_id", n.ID, "err", err)
	}
	d.publishNode("skipped", n.ID, a.Attempt, nil)
}

// settle applies a finished node's result and reports whether the run
// goes on.
func (d *driver) settle(r result) bool {
	s := d.nodes[r.id]
	s.running = false
	if errors.Is(r.err, errShutdown) {
		return true // left running in the record: the next owner runs it again
	}
	s.done = true
	if r.err == nil {
		s.live, s.output, s.status = true, r.out, store.NodeCompleted
		return true
	}
	if d.ctx.Err() != nil {
		return true // the select sees the run's end next
	}
	n, _ := d.graph.Node(r.id)
	s.status, s.errMsg = store.NodeFailed, gathering.ErrorMessage(r.err)
	if s.live, s.output = d.afterFailure(n, s.errMsg); s.live {
		return true
	}
	d.fail(&n, r.err)
	return false
}

// conclude finishes a run none of whose nodes can run any more.
func (d *driver) conclude() {
	if d.ctx.Err() != nil {
		d.interrupted()
		return
	}
	if d.isStopping() && !d.allDone() {
		d.release()
		return
	}
	d.finish(store.RunEnd{Status: store.RunCompleted, Running: store.NodeCancelled, Pending: store.NodeSkipped})
}

// allDone reports whether every node is done.
func (d *driver) allDone() bool {
	for _, s := range d.nodes {
		if !s.done {
			return false
		}
	}
	return true
}

// fail finishes the run as failed because of node n (nil: the run itself)
// and cancels its other nodes.
func (d *driver) fail(n *pipeline.Node, err error) {
	msg := gathering.ErrorMessage(err)
	if n != nil {
		msg = fmt.Sprintf("Node %s failed: %s", n.ID, msg)
	}
	d.finish(store.RunEnd{Status: store.RunFailed, ErrorCode: gathering.ErrorCode(err), Error: msg,
		Running: store.NodeCancelled, Pending: store.NodeCancelled})
	d.cancel(errRunFailed)
}

// interrupted handles the end of the run's context: a timeout finishes the
// run as timed_out; a cancel or a lost lease leaves the record to whoever
// caused it; a stopping engine releases the run.
func (d *driver) interrupted() {
	switch context.Cause(d.ctx) {
	case errRunTimeout:
		d.finish(store.RunEnd{Status: store.RunTimedOut, ErrorCode: gathering.ETIMEOUT,
			Error:   fmt.Sprintf("The run did not finish within %d seconds.", d.settings.TimeoutSeconds),
			Running: store.NodeTimedOut, Pending: store.NodeCancelled})
	case errShutdown:
		d.release()
	}
}

// finish records the run's end under its lease and announces it.
func (d *driver) finish(end store.RunEnd) {
	end.RunID, end.Lease, end.At = d.run.ID, &d.lease, time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	run, changed, err := d.e.db.RunFinish(ctx, end)
	if err != nil {
		d.e.opts.Logger.Warn("finishing a pipeline run failed", "run_id", d.run.ID, "err", err)
		return
	}
	if changed {
		d.e.publishRun(ctx, run)
	}
}

// release gives the run's lease up so that another instance resumes it.
func (d *driver) release() {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if err := d.e.db.RunRelease(ctx, d.lease, time.Now()); err != nil {
		d.e.opts.Logger.Warn("releasing a pipeline run failed", "run_id", d.run.ID, "err", err)
	}
}

// writeTimeout bounds the writes made after the run's context ended.
const writeTimeout = 10 * time.Second

// isStopping reports whether the engine is stopping.
func (d *driver) isStopping() bool {
	select {
	case <-d.e.drivers.Stopping():
		return true
	default:
		return false
	}
}

// setWaiting counts an approval node starting (+1) or ending (-1) its wait
// and moves the run to waiting_approval and back.
func (d *driver) setWaiting(delta int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.waiting += delta
	status := store.RunRunning
	switch {
	case delta > 0 && d.waiting == 1:
		status = store.RunWaitingApproval
	case delta < 0 && d.waiting == 0:
	default:
		return nil
	}
	if err := d.e.db.RunSetStatus(d.ctx, d.lease, status); err != nil {
		return err
	}
	if status == store.RunWaitingApproval {
		run := d.run
		run.Status = status
		d.e.publishRun(d.ctx, run)
	}
	return nil
}
