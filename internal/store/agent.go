package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// AgentStore keeps the model catalog (providers, models, personas), the
// encrypted provider credentials, agents, their chat sessions and history,
// and the usage ledger. A page of a list holds 50 items when Limit is not
// positive, and never more than 500. Lists of strings read back empty, never
// nil.
type AgentStore interface {
	// ProviderPut creates or replaces a provider by name; a replaced
	// provider keeps its CreatedAt.
	ProviderPut(ctx context.Context, p Provider) (Provider, error)
	// ProviderGet returns a provider by name, or ENOTFOUND.
	ProviderGet(ctx context.Context, name string) (Provider, error)
	// ProviderList returns every provider, by name (byte order).
	ProviderList(ctx context.Context) ([]Provider, error)
	// ProviderDelete deletes a provider that is not built in and has no
	// models, with its credential; ENOTFOUND, or ECONFLICT when built in or
	// in use.
	ProviderDelete(ctx context.Context, name string) error

	// CredentialPut stores the sealed API key of a provider, replacing any;
	// ENOTFOUND when the provider does not exist.
	CredentialPut(ctx context.Context, c Credential) error
	// CredentialGet returns the sealed key of a provider, or ENOTFOUND.
	CredentialGet(ctx context.Context, provider string) (Credential, error)
	// CredentialDelete removes a provider's key; ENOTFOUND when none.
	CredentialDelete(ctx context.Context, provider string) error

	// ModelPut creates or replaces a model by (provider, name), ignoring
	// m.ID, and returns it with its id (a replaced model keeps its id and
	// CreatedAt); ENOTFOUND when the provider does not exist.
	ModelPut(ctx context.Context, m Model) (Model, error)
	// ModelGet returns a model by id, or ENOTFOUND.
	ModelGet(ctx context.Context, id int64) (Model, error)
	// ModelFind returns the model of a provider by name or, failing that,
	// by alias (the oldest one when several share it), or ENOTFOUND.
	ModelFind(ctx context.Context, provider, nameOrAlias string) (Model, error)
	// ModelList returns the models of a provider ("" for all), by provider
	// and name (byte order).
	ModelList(ctx context.Context, provider string) ([]Model, error)
	// ModelDelete deletes a model that is not built in (personas that
	// defaulted to it are left without a default model); ENOTFOUND, or
	// ECONFLICT when built in.
	ModelDelete(ctx context.Context, id int64) error

	// PersonaCreate inserts a persona and returns it with its id; ECONFLICT
	// when a persona already has its display name, ENOTFOUND when its
	// default model does not exist.
	PersonaCreate(ctx context.Context, p Persona) (Persona, error)
	// PersonaGet returns a persona or ENOTFOUND.
	PersonaGet(ctx context.Context, id int64) (Persona, error)
	// PersonaList returns a page of personas by id, and the total.
	PersonaList(ctx context.Context, p Page) ([]Persona, int, error)
	// PersonaUpdate replaces the editable fields of a persona (all but ID,
	// IsBuiltin and CreatedAt); ENOTFOUND when it or its default model does
	// not exist, ECONFLICT on a taken display name.
	PersonaUpdate(ctx context.Context, p Persona) (Persona, error)
	// PersonaDelete deletes a persona; ENOTFOUND, or ECONFLICT when it is
	// built in or an agent uses it.
	PersonaDelete(ctx context.Context, id int64) error

	// AgentCreate inserts an agent (idle when Status is empty) and returns
	// it with its id; ENOTFOUND when its persona does not exist, ECONFLICT
	// when its name is taken. Ids of deleted agents are never reused.
	AgentCreate(ctx context.Context, a Agent) (Agent, error)
	// AgentGet returns an agent or ENOTFOUND.
	AgentGet(ctx context.Context, id int64) (Agent, error)
	// AgentList returns a page of agents by id, and the total.
	AgentList(ctx context.Context, p Page) ([]Agent, int, error)
	// AgentUpdate replaces the editable fields of an agent (all but ID,
	// Status, CreatedBy and CreatedAt); ENOTFOUND when it or its persona does
	// not exist, ECONFLICT on a taken name.
	AgentUpdate(ctx context.Context, a Agent) (Agent, error)
	// AgentSetStatus sets an agent idle or busy, and its UpdatedAt to at;
	// EINVALID for another status, ENOTFOUND.
	AgentSetStatus(ctx context.Context, id int64, status AgentStatus, at time.Time) error
	// AgentDelete deletes an agent with its sessions, messages and skills
	// (its usage records stay); ENOTFOUND.
	AgentDelete(ctx context.Context, id int64) error

	// SessionCreate inserts a chat session whose ID the caller chose;
	// ECONFLICT when the id is taken, ENOTFOUND when the agent does not exist.
	SessionCreate(ctx context.Context, s ChatSession) error
	// SessionGet returns a session or ENOTFOUND.
	SessionGet(ctx context.Context, id string) (ChatSession, error)
	// SessionList returns a page of an agent's sessions, most recently
	// updated first (then by ID, descending), and the total.
	SessionList(ctx context.Context, agentID int64, p Page) ([]ChatSession, int, error)
	// SessionAcquire takes the session's lease for owner until `until` when it
	// is free, expired, or already held by owner (then it is extended), and
	// reports whether it did; ENOTFOUND when the session does not exist.
	SessionAcquire(ctx context.Context, id, owner string, now, until time.Time) (bool, error)
	// SessionRelease frees the lease if owner holds it; releasing a lease one
	// does not hold is not an error.
	SessionRelease(ctx context.Context, id, owner string) error
	// MessagesAppend appends messages to a session, in order, bumps the
	// session's updated_at and returns them with their ids. Ids grow in the
	// order of the messages; each message takes the session's AgentID; the
	// session's UpdatedAt becomes the latest CreatedAt when that is later.
	// ENOTFOUND when the session does not exist, EINVALID when ToolCalls is
	// neither nil nor valid JSON.
	MessagesAppend(ctx context.Context, sessionID string, ms []ChatMessage) ([]ChatMessage, error)
	// MessagesRecent returns the latest limit messages of a session, oldest
	// first; none when limit is not positive or the session does not exist.
	MessagesRecent(ctx context.Context, sessionID string, limit int) ([]ChatMessage, error)
	// MessageList returns a page of an agent's messages across its sessions
	// (one session when sessionID is set), oldest first, and the total.
	MessageList(ctx context.Context, agentID int64, sessionID string, p Page) ([]ChatMessage, int, error)

	// UsageRecord appends one provider call to the ledger.
	UsageRecord(ctx context.Context, u UsageRecord) error
	// UsageTotals sums the ledger from since (included) to until (excluded;
	// zero: unbounded), grouped by agent, model or day (UTC), largest cost
	// first (then by key) for agent and model, by day for day; EINVALID for
	// another grouping.
	UsageTotals(ctx context.Context, groupBy UsageGroup, since, until time.Time) ([]UsageTotal, error)
}

// ProviderKind is the wire format a provider speaks.
type ProviderKind string

// The wire formats.
const (
	KindOpenAI    ProviderKind = "openai"    // Chat Completions: OpenAI, DeepSeek, Ollama /v1, vLLM, llama.cpp
	KindAnthropic ProviderKind = "anthropic" // Messages API
)

// Provider is a model provider endpoint.
type Provider struct {
	Name      string // [a-z0-9_-]{1,64}, unique
	Kind      ProviderKind
	BaseURL   string // e.g. https://api.openai.com/v1
	IsBuiltin bool
	// KeyEnv is the environment variable that may hold its API key
	// (OPENAI_API_KEY); empty when none.
	KeyEnv    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Credential is a provider's API key, sealed (AES-GCM); the store never
// sees the key itself.
type Credential struct {
	Provider  string
	Sealed    []byte // nonce and ciphertext
	Hint      string // the key's last four characters, for display
	UpdatedAt time.Time
	UpdatedBy int64 // the user who set it; 0 when unknown
}

// Model is a model of a provider, with its limits and prices.
type Model struct {
	ID            int64
	Provider      string
	Name          string // the provider's model id
	Alias         string // a short name; "" when none
	ContextWindow int    // tokens
	MaxOutput     int    // tokens
	// Prices in US dollars per million tokens.
	PriceInput  float64
	PriceOutput float64
	PriceCached float64
	Tools       bool // supports tool calls
	Vision      bool
	Streaming   bool
	IsBuiltin   bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Persona is the character an agent plays.
type Persona struct {
	ID                 int64
	DisplayName        string // unique
	Role               string
	Traits             []string
	CommunicationStyle string
	Specializations    []string
	Languages          []string
	BasePrompt         string
	Motto              string
	Description        string
	DefaultModelID     int64 // 0 when none
	IsBuiltin          bool
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// AgentStatus is whether an agent is working.
type AgentStatus string

// The agent statuses.
const (
	AgentIdle AgentStatus = "idle"
	AgentBusy AgentStatus = "busy"
)

// Agent is a persona bound to a model, with its settings.
type Agent struct {
	ID           int64
	Name         string // unique
	PersonaID    int64
	Provider     string
	Model        string // the model's name at the provider
	Temperature  float64
	MaxTokens    int
	Competencies []string
	CanReview    bool
	Status       AgentStatus
	CreatedBy    int64 // the user who created it; 0 when unknown
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// ChatSession is one conversation of a user with an agent.
type ChatSession struct {
	ID        string
	AgentID   int64
	UserID    int64
	Title     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ChatMessage is one stored message of a session.
type ChatMessage struct {
	ID         int64
	SessionID  string
	AgentID    int64
	Role       string          // user, assistant, tool
	Content    string          // text; for a tool message, the result as JSON text
	ToolCalls  json.RawMessage // an assistant's tool calls as JSON; nil when none
	ToolCallID string          // the call a tool message answers
	IsError    bool            // a tool message reporting a failure
	Tokens     int             // estimated tokens of the message, for history budgets
	CreatedAt  time.Time
}

// UsageRecord is one provider call in the ledger.
type UsageRecord struct {
	ID            int64
	At            time.Time
	AgentID       int64  // 0 when no agent made the call
	SessionID     string // "" when none
	UserID        int64  // 0 when none
	PipelineRunID string // "" when none
	NodeID        string // "" when none
	Provider      string
	Model         string
	InputTokens   int
	OutputTokens  int
	CachedTokens  int
	Cost          float64 // US dollars
	LatencyMS     int64
	Outcome       string // "ok", or the error code of a failed call
}

// UsageGroup is how usage totals are grouped.
type UsageGroup string

// The usage groupings.
const (
	UsageByAgent UsageGroup = "agent"
	UsageByModel UsageGroup = "model"
	UsageByDay   UsageGroup = "day"
)

// UsageTotal sums the ledger for one group.
type UsageTotal struct {
	Key          string // agent id ("0" for calls without one), "provider/model" or YYYY-MM-DD
	Calls        int
	Failed       int
	InputTokens  int64
	OutputTokens int64
	CachedTokens int64
	Cost         float64
}

// CheckMessages refuses with EINVALID messages whose tool calls are
// neither nil nor JSON.
func CheckMessages(ms []ChatMessage) error {
	for i, m := range ms {
		if m.ToolCalls != nil && !json.Valid(m.ToolCalls) {
			return gathering.Errorf(gathering.EINVALID, "message %d: tool calls are not valid JSON", i)
		}
	}
	return nil
}
