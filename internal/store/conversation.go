package store

import (
	"context"
	"slices"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// ConversationStore keeps conversations between agents and their messages.
//
// An active conversation is run by the one instance that holds its lease
// (owner, epoch, lease_until), as background tasks are: ConversationClaim
// hands out a lease with a fresh epoch, heartbeats extend it, and every
// write the running instance makes names its Lease and applies only while
// the conversation is still active with that owner and epoch (fencing):
// ECONFLICT when it no longer holds, ENOTFOUND when there is no such
// conversation. A lease with an empty owner never holds. Starting,
// advancing and cancelling come from the API, on any instance, and take no
// lease. The caller chooses a conversation's ID.
//
// Messages are numbered from 1 in the order they were written, agents'
// turns and humans' prompts alike; MessageCount is the number written.
type ConversationStore interface {
	// ConversationCreate inserts c as pending, with no turn taken, no
	// message, no summary, no error, no owner and epoch 0, and returns it
	// as stored. It keeps c's ID, Topic, Circle, AgentIDs,
	// SelectorAgentID, MaxTurns, InitialPrompt, Strategy, CreatedBy and
	// CreatedAt and ignores its other fields. ECONFLICT when the id
	// exists; EINVALID for an empty id or topic, no agent, MaxTurns below
	// 1 or an unknown strategy.
	ConversationCreate(ctx context.Context, c Conversation) (Conversation, error)
	// ConversationGet returns a conversation or ENOTFOUND.
	ConversationGet(ctx context.Context, id string) (Conversation, error)
	// ConversationList returns a page of the conversations that match,
	// newest first (by CreatedAt, then ID), and the total; EINVALID for an
	// unknown status.
	ConversationList(ctx context.Context, f ConversationFilter, p Page) ([]Conversation, int, error)
	// ConversationDelete removes a conversation that is not active, with
	// its messages. ECONFLICT while it is active, ENOTFOUND.
	ConversationDelete(ctx context.Context, id string) error

	// ConversationStart turns a pending conversation active, started at
	// now, with no owner, so that the next claim takes it. ECONFLICT when
	// it is not pending, ENOTFOUND.
	ConversationStart(ctx context.Context, id string, now time.Time) (Conversation, error)
	// ConversationAdvance appends m, a human's prompt (its AgentID must be
	// 0), as the next message, at m.At, and gives the conversation turns
	// more: an active one keeps its lease and gets MaxTurns+turns; a
	// completed one gets TurnsTaken+turns, turns active again with no
	// owner (the next claim takes it) and loses its CompletedAt. It
	// returns the conversation and the message as stored. EINVALID when
	// turns is below 1 or MaxTurns would pass maxTurns, or m is not a
	// human's; ECONFLICT when the conversation is neither active nor
	// completed; ENOTFOUND.
	ConversationAdvance(ctx context.Context, id string, m ConversationMessage, turns, maxTurns int) (Conversation, ConversationMessage, error)
	// ConversationCancel turns a pending or active conversation cancelled,
	// completed at now, with no owner. ECONFLICT when it has ended
	// (completed, cancelled or failed), ENOTFOUND.
	ConversationCancel(ctx context.Context, id string, now time.Time) (Conversation, error)

	// ConversationClaim takes the lease of the oldest active conversation
	// (by CreatedAt, then ID) that needs an owner: none, or a lease that
	// ended before now. It gets owner, the next epoch and a lease until
	// leaseUntil. ENOTFOUND when none needs an owner, EINVALID for an
	// empty owner. Two concurrent claims never take the same conversation.
	ConversationClaim(ctx context.Context, owner string, now, leaseUntil time.Time) (Conversation, error)
	// ConversationHeartbeat extends the leases that still hold and returns
	// the ids of those that do not (the conversation was cancelled, ended
	// or reclaimed), sorted.
	ConversationHeartbeat(ctx context.Context, leases []Lease, leaseUntil time.Time) ([]string, error)
	// ConversationRelease gives up a lease that holds (shutdown, or a
	// restart on SQLite releasing a dead process's conversations): the
	// conversation stays active with no owner and its lease ended at now,
	// so that the next claim on any instance continues it. A lease that no
	// longer holds is not an error.
	ConversationRelease(ctx context.Context, l Lease, now time.Time) error
	// ConversationTurn records an agent's turn under the lease: m (its
	// AgentID must not be 0) becomes the next message, and TurnsTaken and
	// MessageCount grow by one, in one transaction. It returns the message
	// as stored, with its Seq. ECONFLICT too when no turn is left
	// (TurnsTaken is MaxTurns); EINVALID for a human's message or one of
	// another conversation.
	ConversationTurn(ctx context.Context, l Lease, m ConversationMessage) (ConversationMessage, error)
	// ConversationFinish ends a conversation under its lease and returns
	// it: Status (completed or failed; EINVALID for another), Summary,
	// ErrorCode, Error and CompletedAt = end.At; the lease ends at
	// CompletedAt (owner and epoch stay, as a record of who ran it last).
	// It applies only while the conversation has exactly end.Messages
	// messages: ECONFLICT when a prompt came in meanwhile, so that the
	// runner looks again instead of ending a conversation that goes on.
	ConversationFinish(ctx context.Context, l Lease, end ConversationEnd) (Conversation, error)
	// ConversationMessages returns a page of a conversation's messages in
	// order (by Seq) and their total; none for a missing conversation.
	ConversationMessages(ctx context.Context, id string, p Page) ([]ConversationMessage, int, error)
}

// ConversationStatus is where a conversation is in its life.
type ConversationStatus string

// The conversation statuses. Completed is final unless a prompt advances
// it; cancelled and failed are final.
const (
	ConversationPending   ConversationStatus = "pending"
	ConversationActive    ConversationStatus = "active"
	ConversationCompleted ConversationStatus = "completed"
	ConversationCancelled ConversationStatus = "cancelled"
	ConversationFailed    ConversationStatus = "failed"
)

// ConversationStatuses lists every conversation status.
var ConversationStatuses = []ConversationStatus{ConversationPending, ConversationActive, ConversationCompleted,
	ConversationCancelled, ConversationFailed}

// Ended reports whether s is the status of a conversation that has ended.
func (s ConversationStatus) Ended() bool {
	return s == ConversationCompleted || s == ConversationCancelled || s == ConversationFailed
}

// TurnStrategy picks the next speaker of a conversation.
type TurnStrategy string

// The turn strategies.
const (
	RoundRobin    TurnStrategy = "round_robin"   // in the order of AgentIDs
	MentionBased  TurnStrategy = "mention_based" // the first @name of the last message, else round robin
	FreeForm      TurnStrategy = "free_form"     // the first @name, else who spoke least recently
	SelectorBased TurnStrategy = "selector"      // a model picks
)

// TurnStrategies is every turn strategy.
var TurnStrategies = []TurnStrategy{RoundRobin, MentionBased, FreeForm, SelectorBased}

// Conversation is a talk between agents on a topic, turn by turn.
type Conversation struct {
	ID              string
	Topic           string
	Circle          string  // the circle its agents belong to; "" when none
	AgentIDs        []int64 // the participants, in round-robin order
	SelectorAgentID int64   // the agent that picks speakers (selector); 0: the first participant
	MaxTurns        int     // agents' turns allowed; advancing adds to it
	InitialPrompt   string
	Strategy        TurnStrategy
	Status          ConversationStatus
	TurnsTaken      int // agents' turns recorded
	MessageCount    int // messages recorded: agents' turns and humans' prompts
	Summary         string
	ErrorCode       string
	Error           string
	CreatedBy       int64 // whose rights its turns have
	CreatedAt       time.Time
	StartedAt       time.Time // zero until started
	CompletedAt     time.Time // when it ended; zero while it goes on
	Owner           string    // "" when none
	Epoch           int64
	LeaseUntil      time.Time // zero when none
}

// CheckNew refuses with EINVALID a new conversation without an id, a topic
// or an agent, whose turn limit is below 1, or whose strategy is unknown.
func (c Conversation) CheckNew() error {
	switch {
	case c.ID == "" || c.Topic == "" || len(c.AgentIDs) == 0:
		return gathering.Errorf(gathering.EINVALID, "a conversation needs an id, a topic and agents")
	case c.MaxTurns < 1:
		return gathering.Errorf(gathering.EINVALID, "conversation %s: max turns must be at least 1", c.ID)
	case !slices.Contains(TurnStrategies, c.Strategy):
		return gathering.Errorf(gathering.EINVALID, "conversation %s: turn strategy %q is unknown", c.ID, c.Strategy)
	}
	return nil
}

// AdvancedLimit returns the turn limit advancing c by turns gives:
// MaxTurns+turns when c is active, TurnsTaken+turns when it is completed.
// It returns false, and no error, when c is neither; EINVALID when turns
// is below 1 or the limit would pass maxTurns.
func (c Conversation) AdvancedLimit(turns, maxTurns int) (int, bool, error) {
	from := c.MaxTurns
	switch c.Status {
	case ConversationCompleted:
		from = c.TurnsTaken
	case ConversationActive:
	default:
		return 0, false, nil
	}
	if turns < 1 || from+turns > maxTurns {
		return 0, true, gathering.Errorf(gathering.EINVALID, "conversation %s may take at most %d turns in all, and at least 1 more",
			c.ID, maxTurns)
	}
	return from + turns, true, nil
}

// CheckConversationOwner refuses with EINVALID an empty owner claiming a
// conversation.
func CheckConversationOwner(owner string) error {
	if owner == "" {
		return gathering.Errorf(gathering.EINVALID, "a conversation's owner must not be empty")
	}
	return nil
}

// ConversationLeaseOf returns the lease a claimed conversation carries.
func ConversationLeaseOf(c Conversation) Lease {
	return Lease{RunID: c.ID, Owner: c.Owner, Epoch: c.Epoch}
}

// ConversationFilter selects conversations; zero fields match everything.
type ConversationFilter struct {
	Status ConversationStatus
}

// Check refuses with EINVALID a filter of an unknown status.
func (f ConversationFilter) Check() error {
	if f.Status != "" && !slices.Contains(ConversationStatuses, f.Status) {
		return gathering.Errorf(gathering.EINVALID, "conversation status %q is unknown", f.Status)
	}
	return nil
}

// ConversationMessage is one message of a conversation: an agent's turn,
// or a human's prompt (AgentID 0).
type ConversationMessage struct {
	ConversationID string
	Seq            int // 1 for the first
	AgentID        int64
	Speaker        string  // the agent's or the human's name when it was written
	Content        string  // as written
	Mentions       []int64 // the participants it names with @name, in order; never nil when stored
	InputTokens    int
	OutputTokens   int
	Cost           float64
	At             time.Time
}

// CheckPrompt refuses with EINVALID a prompt to conversation id that is
// not a human's (its AgentID is not 0).
func (m ConversationMessage) CheckPrompt(id string) error {
	if m.AgentID != 0 {
		return gathering.Errorf(gathering.EINVALID, "conversation %s: a prompt is a human's, not agent %d's", id, m.AgentID)
	}
	return nil
}

// CheckTurn refuses with EINVALID a turn recorded under l that is a
// human's (AgentID 0) or of another conversation than l's.
func (m ConversationMessage) CheckTurn(l Lease) error {
	if m.AgentID == 0 || m.ConversationID != l.RunID {
		return gathering.Errorf(gathering.EINVALID, "a turn of conversation %s must be an agent's, under its lease", l.RunID)
	}
	return nil
}

// Stored returns m as the store reads it back: its Mentions never nil.
func (m ConversationMessage) Stored() ConversationMessage {
	if m.Mentions == nil {
		m.Mentions = []int64{}
	}
	return m
}

// ConversationEnd finishes a conversation; see ConversationFinish.
type ConversationEnd struct {
	Status    ConversationStatus
	Summary   string
	ErrorCode string
	Error     string
	Messages  int // the MessageCount the runner decided on
	At        time.Time
}

// Check refuses with EINVALID the end of conversation id with a status
// other than completed or failed.
func (e ConversationEnd) Check(id string) error {
	if e.Status != ConversationCompleted && e.Status != ConversationFailed {
		return gathering.Errorf(gathering.EINVALID, "conversation %s cannot finish as %q", id, e.Status)
	}
	return nil
}
