package agent

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/store"
)

// MaxMessageLen bounds the text of one chat message, in bytes.
const MaxMessageLen = 100_000

// Chatter runs an agent's chat turn; Service is one, tests wrap it.
type Chatter interface {
	Chat(ctx context.Context, req ChatRequest) (ChatResult, error)
}

// ChatRequest is one turn asked of an agent.
type ChatRequest struct {
	AgentID         int64
	UserID          int64
	Message         string
	SessionID       string // "" starts a new session
	IncludeMemories bool
	AllowTools      bool
	// Emit, when set, receives the turn's frames as they happen
	// (streaming); an error from it ends the turn.
	Emit func(Frame) error
	// LeaseOwner holds the session's lease across instances during the
	// turn; "" is this instance. A background task names itself, so that
	// whichever instance continues it after a crash takes its session at
	// once instead of waiting for the dead process's lease to end.
	LeaseOwner string
}

// ChatResult is the outcome of a turn.
type ChatResult struct {
	Content     string       `json:"content"`
	ToolCalls   []ToolCall   `json:"tool_calls"`
	ToolResults []ToolResult `json:"tool_results"`
	Usage       llm.Usage    `json:"usage"`
	Cost        float64      `json:"cost"`
	Model       string       `json:"model"`
	DurationMS  int64        `json:"duration_ms"`
	SessionID   string       `json:"session_id"`
}

// ToolCall is a call the model made, under the registry's tool name.
type ToolCall struct {
	ID        string          `json:"id"`
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
}

// ToolResult is what a tool call gave back to the model.
type ToolResult struct {
	CallID      string          `json:"call_id"`
	Tool        string          `json:"tool"`
	ExecutionID string          `json:"execution_id,omitempty"`
	Status      string          `json:"status"` // the execution's status, or "rejected" when it never ran
	Output      json.RawMessage `json:"output,omitempty"`
	Error       string          `json:"error,omitempty"`
}

// Frame is one streamed piece of a turn: start, token, tool_call,
// tool_result, done or error.
type Frame struct {
	Type       string      `json:"type"`
	SessionID  string      `json:"session_id,omitempty"`
	Content    string      `json:"content,omitempty"`
	ToolCall   *ToolCall   `json:"tool_call,omitempty"`
	ToolResult *ToolResult `json:"tool_result,omitempty"`
	Result     *ChatResult `json:"result,omitempty"` // done
	Usage      *llm.Usage  `json:"usage,omitempty"`  // done
	Error      string      `json:"error,omitempty"`
	Status     int         `json:"status,omitempty"` // error: the HTTP status of the problem, when the turn never started
}

// turn is the state of one chat turn.
type turn struct {
	req      ChatRequest
	agent    store.Agent
	model    store.Model
	provider llm.Provider
	tools    toolSet
	llmReq   llm.Request
	result   ChatResult
	newMsgs  []store.ChatMessage
	seen     map[string]bool // name + arguments of calls already made
}

// Chat runs one turn: it loads the agent, waits for the session, builds
// the context, calls the model (and the tools it asks for, up to
// MaxRounds model calls), records usage and persists the new messages, all
// within TurnTimeout.
func (s *Service) Chat(ctx context.Context, req ChatRequest) (ChatResult, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, s.opts.TurnTimeout,
		gathering.Errorf(gathering.ETIMEOUT, "The turn did not finish within %s.", s.opts.TurnTimeout))
	defer cancel()
	start := s.now()
	t, err := s.prepare(ctx, req)
	if err != nil {
		return ChatResult{}, err
	}
	release, err := s.lockSession(ctx, t.result.SessionID, req.LeaseOwner)
	if err != nil {
		return ChatResult{}, err
	}
	defer release()
	s.working(t.agent.ID, +1)
	defer s.working(t.agent.ID, -1)
	if err := s.buildContext(ctx, t); err != nil {
		return ChatResult{}, err
	}
	if err := t.emit(Frame{Type: "start", SessionID: t.result.SessionID}); err != nil {
		return ChatResult{}, err
	}
	if err = s.loop(ctx, t); err != nil && ctx.Err() != nil {
		err = context.Cause(ctx) // the turn's limit or the caller leaving, not what it caused
	}
	t.result.DurationMS = s.now().Sub(start).Milliseconds()
	if perr := s.persist(ctx, t); err == nil {
		err = perr
	}
	if err != nil {
		_ = t.emit(Frame{Type: "error", Error: gathering.ErrorMessage(err)})
		return t.result, err
	}
	s.announce(ctx, t)
	return t.result, t.emit(Frame{Type: "done", Result: &t.result, Usage: &t.result.Usage})
}

func (t *turn) emit(f Frame) error {
	if t.req.Emit == nil {
		return nil
	}
	return t.req.Emit(f)
}

// prepare validates the request and loads the agent, its model and its
// provider, and the session.
func (s *Service) prepare(ctx context.Context, req ChatRequest) (*turn, error) {
	if req.Message == "" || len(req.Message) > MaxMessageLen {
		return nil, gathering.Invalid("The chat request is invalid.", gathering.FieldError{Field: "message", Message: "must be 1 to 100000 bytes"})
	}
	a, err := s.st.AgentGet(ctx, req.AgentID)
	if err != nil {
		return nil, err
	}
	model, err := s.st.ModelFind(ctx, a.Provider, a.Model)
	if err != nil {
		if gathering.ErrorCode(err) == gathering.ENOTFOUND {
			return nil, gathering.Errorf(gathering.EUNAVAILABLE, "The agent's model %q of provider %q is not in the catalog; add it with POST /models.", a.Model, a.Provider)
		}
		return nil, err
	}
	p, err := s.providers.Get(ctx, a.Provider)
	if err != nil {
		return nil, err
	}
	t := &turn{req: req, agent: a, model: model, provider: p, seen: map[string]bool{}}
	t.result.Model, t.result.ToolCalls, t.result.ToolResults = model.Name, []ToolCall{}, []ToolResult{}
	t.result.SessionID, err = s.session(ctx, req)
	return t, err
}

// session returns the request's session, checking that it belongs to the
// agent and the user, or creates a new one.
func (s *Service) session(ctx context.Context, req ChatRequest) (string, error) {
	if req.SessionID == "" {
		now := s.now()
		sess := store.ChatSession{ID: event.NewID(now), AgentID: req.AgentID, UserID: req.UserID, Title: title(req.Message), CreatedAt: now, UpdatedAt: now}
		return sess.ID, s.st.SessionCreate(ctx, sess)
	}
	sess, err := s.st.SessionGet(ctx, req.SessionID)
	if err != nil || sess.AgentID != req.AgentID || sess.UserID != req.UserID {
		return "", gathering.Errorf(gathering.ENOTFOUND, "No session %q of this agent.", req.SessionID)
	}
	return sess.ID, nil
}

// title is the first line of the first message, shortened.
func title(msg string) string {
	r := []rune(msg)
	for i, c := range r {
		if c == '\n' {
			r = r[:i]
			break
		}
	}
	if len(r) > 80 {
		r = append(r[:79], '…')
	}
	return string(r)
}

// working counts the agent's running turns and records it busy while
// there is one, idle when the last one ends. The record is written under
// the lock, so the stored status follows the transitions in order.
func (s *Service) working(id int64, delta int) {
	s.busyMu.Lock()
	defer s.busyMu.Unlock()
	before := s.busy[id]
	after := before + delta
	if after == 0 {
		delete(s.busy, id)
	} else {
		s.busy[id] = after
	}
	if (before == 0) == (after == 0) {
		return
	}
	status := store.AgentBusy
	if after == 0 {
		status = store.AgentIdle
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.st.AgentSetStatus(ctx, id, status, s.now())
}

// announce publishes the finished turn on the agent's topic.
func (s *Service) announce(ctx context.Context, t *turn) {
	if s.bus == nil {
		return
	}
	data, _ := json.Marshal(map[string]any{"agent_id": t.agent.ID, "session_id": t.result.SessionID, "usage": t.result.Usage, "cost": t.result.Cost, "duration_ms": t.result.DurationMS})
	_, _ = s.bus.Publish(context.WithoutCancel(ctx), event.Event{Type: "agent.chat.completed", Topics: []string{agentTopic(t.agent.ID), userTopic(t.req.UserID)}, Data: data})
}

// persist stores the turn's new messages, even when the turn failed, so
// nothing the user wrote is lost.
func (s *Service) persist(ctx context.Context, t *turn) error {
	if len(t.newMsgs) == 0 {
		return nil
	}
	_, err := s.st.MessagesAppend(context.WithoutCancel(ctx), t.result.SessionID, t.newMsgs)
	return err
}
