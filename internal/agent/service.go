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
	"github.com/gathering/gathering/internal/gathering"
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
	UsageRecord(ctx context.Context, u store.UsageRecord) error
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
}

// The defaults of Options.
const (
	DefaultMaxRounds   = 10
	DefaultSessionWait = 30 * time.Second
	DefaultRecallLimit = 5
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
	return &Service{st: st, providers: providers, tools: tools, memories: memories, bus: bus, opts: opts, now: time.Now,
		sessions: sessionLocks{held: map[string]*sessionLock{}}, busy: map[int64]int{}}
}

// Breakers reports the circuit breakers of the providers used so far.
func (s *Service) Breakers() []BreakerState { return s.providers.Breakers() }

// sessionLocks serialises the chats of one session within this process.
type sessionLocks struct {
	mu   sync.Mutex
	held map[string]*sessionLock
}

type sessionLock struct {
	token chan struct{} // holds one token; taking it is holding the lock
	users int           // chats holding or waiting; the entry goes at zero
}

// lock waits up to wait for the session, and returns its release.
func (l *sessionLocks) lock(ctx context.Context, id string, wait time.Duration) (func(), error) {
	l.mu.Lock()
	s, ok := l.held[id]
	if !ok {
		s = &sessionLock{token: make(chan struct{}, 1)}
		s.token <- struct{}{}
		l.held[id] = s
	}
	s.users++
	l.mu.Unlock()
	leave := func() {
		l.mu.Lock()
		if s.users--; s.users == 0 {
			delete(l.held, id)
		}
		l.mu.Unlock()
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-s.token:
		return func() { s.token <- struct{}{}; leave() }, nil
	case <-timer.C:
		leave()
		return nil, gathering.Errorf(gathering.ECONFLICT, "Another chat of this session is still running; try again when it ends.")
	case <-ctx.Done():
		leave()
		return nil, context.Cause(ctx)
	}
}
