// Package agent runs agents: it resolves an agent's persona, model and
// provider, builds the context of a chat turn (persona, recalled memories,
// as much history as the model's window allows), drives the tool loop
// through the tool executor, records every provider call in the usage
// ledger and persists the conversation.
package agent

import (
	"context"
	"sync"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// Store is the storage a Service needs.
type Store interface {
	AgentGet(ctx context.Context, id int64) (store.Agent, error)
	AgentSetStatus(ctx context.Context, id int64, status store.AgentStatus, at time.Time) error
	PersonaGet(ctx context.Context, id int64) (store.Persona, error)
	ModelFind(ctx context.Context, provider, nameOrAlias string) (store.Model, error)
	AgentSkills(ctx context.Context, agentID int64) ([]string, error)
	SessionCreate(ctx context.Context, s store.ChatSession) error
	SessionGet(ctx context.Context, id string) (store.ChatSession, error)
	MessagesAppend(ctx context.Context, sessionID string, ms []store.ChatMessage) ([]store.ChatMessage, error)
	MessagesRecent(ctx context.Context, sessionID string, limit int) ([]store.ChatMessage, error)
	SessionAcquire(ctx context.Context, id, owner string, now, until time.Time) (bool, error)
	SessionRelease(ctx context.Context, id, owner string) error
	UsageRecord(ctx context.Context, u store.UsageRecord) error
	AgentProjects(ctx context.Context, agentID int64) ([]int64, error)
	ProjectGet(ctx context.Context, id int64) (store.Project, error)
	ActivityList(ctx context.Context, f store.ActivityFilter, pg store.Page) ([]store.Activity, int, error)
}

// Recaller finds an agent's memories relevant to a text.
type Recaller interface {
	Recall(ctx context.Context, agentID int64, text string, limit int) ([]string, error)
}

// Options tunes a Service; zero fields take defaults.
type Options struct {
	// MaxRounds bounds the model calls of one turn (default 10).
	MaxRounds int
	// SessionWait is how long a chat waits for another chat of the same
	// session to finish (default 30 s); then it fails with ECONFLICT.
	SessionWait time.Duration
	// RecallLimit is how many memories a turn may include (default 5).
	RecallLimit int
	// Instance names this process among those sharing the database; it
	// owns the session leases this process takes.
	Instance string
	// SessionLease is how long a session lease lasts without renewal
	// (default 2 minutes); a turn renews it every third of that.
	SessionLease time.Duration
	// TurnTimeout bounds a whole turn, model and tool calls included
	// (default 10 minutes).
	TurnTimeout time.Duration
}

// The defaults of Options.
const (
	DefaultMaxRounds    = 10
	DefaultSessionWait  = 30 * time.Second
	DefaultRecallLimit  = 5
	DefaultSessionLease = 2 * time.Minute
	DefaultTurnTimeout  = 10 * time.Minute
)

// Service runs chat turns. It is safe for concurrent use.
type Service struct {
	st        Store
	providers *Providers
	tools     *tool.Executor
	memories  Recaller // nil: no recall
	bus       *event.Bus
	opts      Options
	now       func() time.Time
	sessions  sessionLocks

	busyMu sync.Mutex
	busy   map[int64]int // running turns per agent, in this process
}

// NewService returns a Service. memories and bus may be nil.
func NewService(st Store, providers *Providers, tools *tool.Executor, memories Recaller, bus *event.Bus, opts Options) *Service {
	if opts.MaxRounds <= 0 {
		opts.MaxRounds = DefaultMaxRounds
	}
	if opts.SessionWait <= 0 {
		opts.SessionWait = DefaultSessionWait
	}
	if opts.RecallLimit <= 0 {
		opts.RecallLimit = DefaultRecallLimit
	}
	if opts.SessionLease <= 0 {
		opts.SessionLease = DefaultSessionLease
	}
	if opts.TurnTimeout <= 0 {
		opts.TurnTimeout = DefaultTurnTimeout
	}
	if opts.Instance == "" {
		opts.Instance = event.NewID(time.Now())
	}
	return &Service{st: st, providers: providers, tools: tools, memories: memories, bus: bus, opts: opts, now: time.Now,
		sessions: sessionLocks{held: map[string]*sessionLock{}}, busy: map[int64]int{}}
}

// TurnTimeout is the longest a turn may take.
func (s *Service) TurnTimeout() time.Duration { return s.opts.TurnTimeout }

// Breakers reports the circuit breakers of the providers used so far.
func (s *Service) Breakers() []BreakerState { return s.providers.Breakers() }
