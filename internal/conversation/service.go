package conversation

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/lease"
	"github.com/gathering/gathering/internal/store"
)

// Circles tells which agents belong to a circle.
type Circles interface {
	// MemberAgentIDs returns the ids of a circle's member agents;
	// ENOTFOUND for an unknown circle.
	MemberAgentIDs(ctx context.Context, circle string) ([]int64, error)
}

// Defaults used for zero fields of Options.
const (
	DefaultLease      = 30 * time.Second
	DefaultMaxRunning = 20
)

// Options tune a Service.
type Options struct {
	// Instance names this process in leases (the bus's instance id).
	Instance string
	// Lease is how long a claimed conversation stays this instance's
	// without a heartbeat; heartbeats, and a look for conversations that
	// need an owner, come every third of it.
	Lease time.Duration
	// MaxRunning caps the conversations this instance runs at once.
	MaxRunning int
	// Exclusive says this instance is the only one on its database
	// (SQLite): at start it continues the conversations a previous process
	// left active at once, instead of waiting for their leases to end.
	Exclusive bool
	Logger    *slog.Logger
}

// Why a worker's context ends.
var (
	errCancelled = errors.New("the conversation was cancelled")
	errShutdown  = errors.New("the server is stopping")
	errLeaseLost = errors.New("the conversation's lease was taken over")
)

// Service creates, starts, advances and cancels conversations, and runs
// the active ones this instance claims. It is a startstop.Service.
type Service struct {
	db      store.Store
	chat    agent.Chatter
	circles Circles
	bus     *event.Bus
	opts    Options

	loop    *lease.Loop // claims conversations, renews their leases, hears cancels
	workers *lease.Set[*worker]
}

// New returns a service over db whose agents speak through chat, checking
// circles' members with circles (nil: a conversation cannot name a
// circle), publishing on bus (nil: no events, and no other instance hears
// of cancels before its next heartbeat).
func New(db store.Store, chat agent.Chatter, circles Circles, bus *event.Bus, opts Options) *Service {
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.MaxRunning <= 0 {
		opts.MaxRunning = DefaultMaxRunning
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, chat: chat, circles: circles, bus: bus, opts: opts}
	s.loop = lease.NewLoop(lease.LoopOptions{Lease: opts.Lease, Claim: s.claim, Renew: s.heartbeat, IDKey: "conversation_id", Hear: s.hear})
	s.workers = lease.New[*worker](opts.MaxRunning, s.signal) // an ended conversation makes room for another
	return s
}

// heard are the events that concern the runner: a conversation to claim,
// or one to stop running.
var heard = []string{"conversation.started", "conversation.advanced", "conversation.cancelled"}

// Start begins claiming conversations and listening for cancels.
func (s *Service) Start(ctx context.Context) error {
	if s.opts.Exclusive {
		if err := s.releaseAll(ctx); err != nil {
			return err
		}
	}
	return s.loop.Start(ctx, s.bus, heard)
}

// releaseAll releases every active conversation that has an owner, so that
// the first claims take them at once.
func (s *Service) releaseAll(ctx context.Context) error {
	active := func(ctx context.Context, p store.Page) ([]store.Conversation, int, error) {
		return s.db.ConversationList(ctx, store.ConversationFilter{Status: store.ConversationActive}, p)
	}
	return lease.ReleaseAll(ctx, active, store.ConversationLeaseOf, s.db.ConversationRelease)
}

// hear acts on a conversation event: wake up for a started or advanced
// one, stop the worker of a cancelled one.
func (s *Service) hear(typ, id string) {
	switch typ {
	case "conversation.started", "conversation.advanced":
		s.signal()
	case "conversation.cancelled":
		s.workers.Cancel(id, errCancelled)
	}
}

// signal wakes the loop to claim conversations.
func (s *Service) signal() { s.loop.Wake() }

// errBusy stops a round of claims: the conversation claimed still has a
// worker here, from an earlier lease, which is ending; its end wakes the
// loop to claim again.
var errBusy = gathering.Errorf(gathering.ENOTFOUND, "the conversation's earlier worker is still ending")

// claim takes conversations that need an owner while this instance has
// room.
func (s *Service) claim(ctx context.Context) {
	err := lease.Fill(ctx, s.workers, func(ctx context.Context) (store.Conversation, error) {
		now := time.Now()
		c, err := s.db.ConversationClaim(ctx, s.opts.Instance, now, now.Add(s.opts.Lease))
		if err == nil {
			if _, busy := s.workers.Get(c.ID); busy {
				s.release(ctx, store.ConversationLeaseOf(c))
				return c, errBusy
			}
		}
		return c, err
	}, s.work)
	if err != nil {
		s.opts.Logger.Warn("claiming a conversation failed", "err", err)
	}
}

// work starts the goroutine that runs a claimed conversation; a stopping
// service releases it for another instance instead.
func (s *Service) work(c store.Conversation) {
	ctx, cancel := context.WithCancelCause(context.Background())
	w := &worker{s: s, conv: c, lease: store.ConversationLeaseOf(c), ctx: ctx}
	if !s.workers.Go(w.lease, w, cancel, w.run) {
		s.release(ctx, w.lease)
	}
}

// release gives a lease up so that the next claim, anywhere, takes the
// conversation.
func (s *Service) release(ctx context.Context, l store.Lease) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if err := s.db.ConversationRelease(ctx, l, time.Now()); err != nil {
		s.opts.Logger.Warn("releasing a conversation failed", "conversation_id", l.RunID, "err", err)
	}
}

// heartbeat renews the leases of the conversations this instance runs and
// stops the workers whose lease no longer holds.
func (s *Service) heartbeat(ctx context.Context) {
	err := s.workers.Renew(ctx, func(ctx context.Context, leases []store.Lease) ([]string, error) {
		return s.db.ConversationHeartbeat(ctx, leases, time.Now().Add(s.opts.Lease))
	}, errLeaseLost)
	if err != nil {
		s.opts.Logger.Warn("renewing conversation leases failed", "err", err)
	}
}

// Stop stops claiming conversations, lets the turns in flight end until
// ctx ends, then cuts them off; each worker releases its conversation so
// that another instance, or the next start, continues it.
func (s *Service) Stop(ctx context.Context) error {
	loopErr := s.loop.Stop(ctx)
	s.workers.Stop(ctx, errShutdown)
	return loopErr
}
