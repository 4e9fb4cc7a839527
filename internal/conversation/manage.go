package conversation

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Limits and defaults of a conversation's fields. Lengths are in
// characters.
const (
	MinAgents       = 2
	MaxAgents       = 10
	MaxTurns        = 50  // turns one create or one advance may ask for
	MaxTotalTurns   = 500 // turns a conversation may take in all, however advanced
	DefaultMaxTurns = 10
	MaxTopicLen     = 500
	MaxPromptLen    = 20_000 // the initial prompt, and a human's prompt
)

// NewConversation is what a caller asks for; zero fields take the
// defaults (DefaultMaxTurns turns, round robin).
type NewConversation struct {
	Topic           string
	Circle          string // "": none
	AgentIDs        []int64
	SelectorAgentID int64 // selector only; 0: the first participant
	MaxTurns        int
	InitialPrompt   string
	Strategy        store.TurnStrategy
	CreatedBy       int64
}

// WithDefaults returns n with its zero fields set.
func (n NewConversation) WithDefaults() NewConversation {
	n.MaxTurns = cmp.Or(n.MaxTurns, DefaultMaxTurns)
	n.Strategy = cmp.Or(n.Strategy, store.RoundRobin)
	return n
}

// Participant is an agent of a conversation as it speaks in it.
type Participant struct {
	AgentID int64
	Name    string // "" when the agent no longer exists
}

// Participants returns the agents of c with their names, in order.
func (s *Service) Participants(ctx context.Context, c store.Conversation) ([]Participant, error) {
	out := make([]Participant, 0, len(c.AgentIDs))
	for _, id := range c.AgentIDs {
		a, err := s.db.AgentGet(ctx, id)
		if err != nil && gathering.ErrorCode(err) != gathering.ENOTFOUND {
			return nil, err
		}
		out = append(out, Participant{AgentID: id, Name: a.Name})
	}
	return out, nil
}

// fieldErrors collects the problems of a request, each named by its API
// field.
type fieldErrors []gathering.FieldError

func (fs *fieldErrors) add(field, format string, args ...any) {
	*fs = append(*fs, gathering.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Check returns everything wrong with a conversation a user asks for
// (after defaults), each problem named by its API field.
func (s *Service) Check(ctx context.Context, n NewConversation) ([]gathering.FieldError, error) {
	var fs fieldErrors
	if l := len([]rune(n.Topic)); l < 1 || l > MaxTopicLen || strings.TrimSpace(n.Topic) == "" {
		fs.add("topic", "must be 1 to %d characters, not only spaces", MaxTopicLen)
	}
	if len([]rune(n.InitialPrompt)) > MaxPromptLen {
		fs.add("initial_prompt", "at most %d characters", MaxPromptLen)
	}
	if n.MaxTurns < 1 || n.MaxTurns > MaxTurns {
		fs.add("max_turns", "must be between 1 and %d", MaxTurns)
	}
	if !slices.Contains(store.TurnStrategies, n.Strategy) {
		fs.add("turn_strategy", "must be round_robin, mention_based, free_form or selector")
	}
	if err := s.checkAgents(ctx, n, &fs); err != nil {
		return nil, err
	}
	return fs, s.checkSelector(ctx, n, &fs)
}

// checkAgents adds the problems of the participants: their number,
// repeats, agents that do not exist, names two of them share, and agents
// outside the circle.
func (s *Service) checkAgents(ctx context.Context, n NewConversation, fs *fieldErrors) error {
	if len(n.AgentIDs) < MinAgents || len(n.AgentIDs) > MaxAgents {
		fs.add("agent_ids", "must list %d to %d agents", MinAgents, MaxAgents)
		return nil
	}
	members, err := s.members(ctx, n.Circle, fs)
	if err != nil {
		return err
	}
	names := map[string]int64{}
	for i, id := range n.AgentIDs {
		field := fmt.Sprintf("agent_ids/%d", i)
		if slices.Index(n.AgentIDs, id) < i {
			fs.add(field, "agent %d is listed twice", id)
			continue
		}
		a, err := s.db.AgentGet(ctx, id)
		switch {
		case gathering.ErrorCode(err) == gathering.ENOTFOUND:
			fs.add(field, "no agent has id %d", id)
			continue
		case err != nil:
			return err
		}
		if other, taken := names[strings.ToLower(a.Name)]; taken {
			fs.add(field, "agent %d has the name of agent %d; participants need distinct names for mentions", id, other)
		}
		names[strings.ToLower(a.Name)] = id
		if members != nil && !slices.Contains(members, id) {
			fs.add(field, "agent %d is not a member of circle %q", id, n.Circle)
		}
	}
	return nil
}

// members returns the members of circle, or nil when there is none to
// check against (adding the problem of an unknown circle).
func (s *Service) members(ctx context.Context, circle string, fs *fieldErrors) ([]int64, error) {
	if circle == "" {
		return nil, nil
	}
	if s.circles == nil {
		fs.add("circle", "circles are not available on this server")
		return nil, nil
	}
	members, err := s.circles.MemberAgentIDs(ctx, circle)
	switch {
	case gathering.ErrorCode(err) == gathering.ENOTFOUND:
		fs.add("circle", "no circle is named %q", circle)
		return nil, nil
	case err != nil:
		return nil, err
	}
	if members == nil {
		members = []int64{} // a circle without members: every agent is outside it
	}
	return members, nil
}

// checkSelector adds the problems of the selector agent: set for another
// strategy, or not an agent.
func (s *Service) checkSelector(ctx context.Context, n NewConversation, fs *fieldErrors) error {
	if n.SelectorAgentID == 0 {
		return nil
	}
	if n.Strategy != store.SelectorBased {
		fs.add("selector_agent_id", "only with turn_strategy selector")
		return nil
	}
	_, err := s.db.AgentGet(ctx, n.SelectorAgentID)
	if gathering.ErrorCode(err) == gathering.ENOTFOUND {
		fs.add("selector_agent_id", "no agent has id %d", n.SelectorAgentID)
		return nil
	}
	return err
}

// Create records a pending conversation; EINVALID with field details.
func (s *Service) Create(ctx context.Context, n NewConversation) (store.Conversation, error) {
	n = n.WithDefaults()
	fs, err := s.Check(ctx, n)
	if err != nil {
		return store.Conversation{}, err
	}
	if len(fs) > 0 {
		return store.Conversation{}, gathering.Invalid("The conversation is invalid.", fs...)
	}
	now := time.Now()
	c, err := s.db.ConversationCreate(ctx, store.Conversation{ID: event.NewID(now), Topic: n.Topic, Circle: n.Circle,
		AgentIDs: n.AgentIDs, SelectorAgentID: n.SelectorAgentID, MaxTurns: n.MaxTurns, InitialPrompt: n.InitialPrompt,
		Strategy: n.Strategy, CreatedBy: n.CreatedBy, CreatedAt: now})
	if err != nil {
		return c, err
	}
	s.publish(ctx, "created", c, "", map[string]any{"topic": c.Topic, "agent_ids": c.AgentIDs, "circle": c.Circle,
		"turn_strategy": c.Strategy})
	return c, nil
}

// Begin starts a pending conversation: it becomes active and a runner, on
// some instance, runs it. ECONFLICT when it is not pending.
func (s *Service) Begin(ctx context.Context, id string) (store.Conversation, error) {
	c, err := s.db.ConversationStart(ctx, id, time.Now())
	if err != nil {
		return c, err
	}
	s.publish(ctx, "started", c, "", nil)
	s.signal()
	return c, nil
}

// Prompt is a human's word in a conversation, and how many more turns the
// agents get.
type Prompt struct {
	Text    string
	Turns   int
	Speaker string // the human's name
	UserID  int64
}

// Advance adds a human's prompt to an active or completed conversation,
// which gets p.Turns more turns and goes on. EINVALID with field details,
// ECONFLICT when it is pending or has been cancelled or has failed.
func (s *Service) Advance(ctx context.Context, id string, p Prompt) (store.Conversation, store.ConversationMessage, error) {
	var fs fieldErrors
	if l := len([]rune(p.Text)); l < 1 || l > MaxPromptLen || strings.TrimSpace(p.Text) == "" {
		fs.add("prompt", "must be 1 to %d characters, not only spaces", MaxPromptLen)
	}
	if p.Turns < 1 || p.Turns > MaxTurns {
		fs.add("turns", "must be between 1 and %d", MaxTurns)
	}
	if len(fs) > 0 {
		return store.Conversation{}, store.ConversationMessage{}, gathering.Invalid("The prompt is invalid.", fs...)
	}
	c, err := s.db.ConversationGet(ctx, id)
	if err != nil {
		return c, store.ConversationMessage{}, err
	}
	ps, err := s.Participants(ctx, c)
	if err != nil {
		return c, store.ConversationMessage{}, err
	}
	m := store.ConversationMessage{Speaker: p.Speaker, Content: p.Text, Mentions: Mentions(p.Text, ps, 0), At: time.Now()}
	c, m, err = s.db.ConversationAdvance(ctx, id, m, p.Turns, MaxTotalTurns)
	if gathering.ErrorCode(err) == gathering.EINVALID {
		return c, m, gathering.Invalid("The prompt is invalid.", gathering.FieldError{Field: "turns",
			Message: fmt.Sprintf("a conversation takes at most %d turns in all", MaxTotalTurns)})
	}
	if err != nil {
		return c, m, err
	}
	s.publish(ctx, "advanced", c, "user:"+strconv.FormatInt(p.UserID, 10), map[string]any{"message": messageData(m)})
	s.signal()
	return c, m, nil
}

// Cancel ends a pending or active conversation at once, stopping the turn
// in flight wherever it runs; ECONFLICT when it has ended.
func (s *Service) Cancel(ctx context.Context, id string) (store.Conversation, error) {
	c, err := s.db.ConversationCancel(ctx, id, time.Now())
	if err != nil {
		return c, err
	}
	s.workers.Cancel(id, errCancelled)
	s.publish(ctx, "cancelled", c, "", nil)
	return c, nil
}

// Delete removes a conversation that is not active, with its messages;
// ECONFLICT while it is active.
func (s *Service) Delete(ctx context.Context, id string) error {
	return s.db.ConversationDelete(ctx, id)
}
