package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"net/url"
	"time"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/pipeline"
	"github.com/gathering/gathering/internal/store"
)

// input renders what a node works on from its config's templates and env:
// a tool's or an action's tool input, an agent's task, a condition's
// predecessor outputs, a marker's predecessor outputs. A template that
// cannot be rendered is a permanent error.
func (d *driver) input(n pipeline.Node, env pipeline.Env) (json.RawMessage, error) {
	data := env.TemplateData()
	switch n.Type {
	case pipeline.TypeTool:
		var cfg struct{ Input json.RawMessage }
		_ = json.Unmarshal(n.Config, &cfg)
		if len(cfg.Input) == 0 {
			return json.RawMessage("{}"), nil
		}
		return rendered(pipeline.RenderJSON(cfg.Input, data))
	case pipeline.TypeAction:
		var cfg map[string]json.RawMessage
		_ = json.Unmarshal(n.Config, &cfg)
		delete(cfg, "action")
		raw, _ := json.Marshal(cfg)
		return rendered(pipeline.RenderJSON(raw, data))
	case pipeline.TypeAgent:
		var cfg struct {
			AgentID int64 `json:"agent_id"`
			Task    string
		}
		_ = json.Unmarshal(n.Config, &cfg)
		task, err := pipeline.Render(cfg.Task, data)
		if err != nil {
			return nil, renderError(err)
		}
		return json.Marshal(map[string]any{"agent_id": cfg.AgentID, "task": task})
	case pipeline.TypeTrigger, pipeline.TypeDelay, pipeline.TypeApproval:
		return nil, nil
	}
	return json.Marshal(env.Input)
}

// rendered passes a rendering's result on, its error made permanent.
func rendered(raw json.RawMessage, err error) (json.RawMessage, error) {
	if err != nil {
		return nil, renderError(err)
	}
	return raw, nil
}

// renderError is the permanent error of a template that cannot be
// rendered.
func renderError(err error) error {
	return permanent(gathering.Errorf(gathering.EINVALID, "A template of the node cannot be rendered: %v", err))
}

// target is the breaker key of the node's destination: the tool, the API
// host, or the agent's provider; "" for nodes without one.
func (d *driver) target(n pipeline.Node, input json.RawMessage) string {
	switch n.Type {
	case pipeline.TypeTool:
		var cfg struct{ Tool string }
		_ = json.Unmarshal(n.Config, &cfg)
		return "tool:" + cfg.Tool
	case pipeline.TypeAction:
		var in struct{ URL string }
		_ = json.Unmarshal(input, &in)
		if u, err := url.Parse(in.URL); err == nil && u.Host != "" {
			return "host:" + u.Host
		}
	case pipeline.TypeAgent:
		var in struct {
			AgentID int64 `json:"agent_id"`
		}
		_ = json.Unmarshal(input, &in)
		if a, err := d.e.db.AgentGet(d.ctx, in.AgentID); err == nil {
			return "provider:" + a.Provider
		}
	}
	return ""
}

// agent runs the node's task as one chat turn of its agent, with the
// agent's tools, on behalf of the run's creator; the output is the reply
// with its usage, which the attempt records too.
func (d *driver) agent(ctx context.Context, input json.RawMessage) (outcome, error) {
	var in struct {
		AgentID int64 `json:"agent_id"`
		Task    string
	}
	_ = json.Unmarshal(input, &in)
	if d.e.chat == nil {
		return outcome{}, permanent(gathering.Errorf(gathering.EUNAVAILABLE, "Agents are not available on this server."))
	}
	res, err := d.e.chat.Chat(ctx, agent.ChatRequest{AgentID: in.AgentID, UserID: d.run.CreatedBy, Message: in.Task, AllowTools: true})
	if err != nil {
		if gathering.ErrorCode(err) == gathering.ENOTFOUND {
			err = permanent(err)
		}
		return outcome{}, err
	}
	o, err := marshalOutcome(map[string]any{
		"content": res.Content, "model": res.Model, "session_id": res.SessionID, "usage": res.Usage,
		"cost": res.Cost, "tool_calls": len(res.ToolCalls),
	})
	o.usage = store.NodeRun{InputTokens: int64(res.Usage.InputTokens), OutputTokens: int64(res.Usage.OutputTokens), Cost: res.Cost}
	return o, err
}

// approval records the node's approval and waits for its decision, its
// expiry, or the end of the run; the run is waiting_approval meanwhile.
// A rejection or an expiry fails the node for good.
func (d *driver) approval(ctx context.Context, n pipeline.Node) (outcome, error) {
	var cfg struct {
		ExpiresIn int64 `json:"expires_in_seconds"`
		Message   string
	}
	_ = json.Unmarshal(n.Config, &cfg)
	now := time.Now()
	a := store.Approval{RunID: d.run.ID, NodeID: n.ID, Message: cfg.Message, RequestedAt: now}
	if cfg.ExpiresIn > 0 {
		a.ExpiresAt = now.Add(secondsOf(cfg.ExpiresIn))
	}
	a, err := d.e.db.ApprovalEnsure(ctx, d.lease, a)
	if err != nil {
		return outcome{}, err
	}
	if !a.Decided {
		if err := d.setWaiting(+1); err != nil {
			return outcome{}, err
		}
		defer func() { _ = d.setWaiting(-1) }()
		if a, err = d.awaitDecision(ctx, a); err != nil {
			return outcome{}, err
		}
	}
	if !a.Approved {
		return outcome{}, permanent(gathering.Errorf(gathering.ECONFLICT, "Rejected by user %d: %s", a.DecidedBy, cmp.Or(a.Comment, "no reason given")))
	}
	return marshalOutcome(map[string]any{"approved": true, "comment": a.Comment, "decided_by": a.DecidedBy, "decided_at": a.DecidedAt})
}

// awaitDecision waits until a is decided or expires (a permanent
// ETIMEOUT), rereading it when the run is poked and every Poll.
func (d *driver) awaitDecision(ctx context.Context, a store.Approval) (store.Approval, error) {
	ctx, stop := d.untilStopping(ctx)
	defer stop()
	for {
		poked := d.poked() // taken before reading, so no decision is missed
		list, err := d.e.db.ApprovalList(ctx, d.run.ID)
		if err != nil {
			return a, err
		}
		for _, x := range list {
			if x.NodeID == a.NodeID {
				a = x
			}
		}
		if a.Decided {
			return a, nil
		}
		wait := d.e.opts.Poll
		if !a.ExpiresAt.IsZero() {
			left := time.Until(a.ExpiresAt)
			if left <= 0 {
				return a, permanent(gathering.Errorf(gathering.ETIMEOUT, "Nobody decided the approval before it expired at %s.",
					a.ExpiresAt.UTC().Format(time.RFC3339)))
			}
			wait = min(wait, left)
		}
		select {
		case <-ctx.Done():
			return a, context.Cause(ctx)
		case <-poked:
		case <-time.After(wait):
		}
	}
}

// secondsOf converts whole seconds to a duration.
func secondsOf(s int64) time.Duration { return time.Duration(s) * time.Second }
