package agent

import (
	"cmp"
	"context"
	"sync"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// leasePoll is how often a turn waiting for another instance's lease asks
// again.
const leasePoll = 100 * time.Millisecond

// errSessionBusy answers a turn that waited too long for its session.
func errSessionBusy() error {
	return gathering.Errorf(gathering.ECONFLICT, "Another chat of this session is still running; try again when it ends.")
}

// lockSession serialises the turns of one session: first among this
// process's turns, then across instances through a lease in the store,
// renewed while the turn runs, held by owner ("" is this instance). Both
// waits share the SessionWait budget. It returns the release.
func (s *Service) lockSession(ctx context.Context, id, owner string) (func(), error) {
	owner = cmp.Or(owner, s.opts.Instance)
	deadline := s.now().Add(s.opts.SessionWait)
	unlock, err := s.sessions.lock(ctx, id, s.opts.SessionWait)
	if err != nil {
		return nil, err
	}
	if err := s.acquireLease(ctx, id, owner, deadline); err != nil {
		unlock()
		return nil, err
	}
	renewCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { s.renewLease(renewCtx, id, owner) })
	return func() {
		stop()
		wg.Wait()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = s.st.SessionRelease(rctx, id, owner)
		unlock()
	}, nil
}

// acquireLease takes the session's lease, asking again every leasePoll
// and a last time at deadline.
func (s *Service) acquireLease(ctx context.Context, id, owner string, deadline time.Time) error {
	for {
		now := s.now()
		ok, err := s.st.SessionAcquire(ctx, id, owner, now, now.Add(s.opts.SessionLease))
		switch {
		case err != nil:
			return err
		case ok:
			return nil
		case !now.Before(deadline):
			return errSessionBusy()
		}
		select {
		case <-time.After(min(leasePoll, deadline.Sub(now))):
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// renewLease extends the lease every third of its length until ctx ends.
func (s *Service) renewLease(ctx context.Context, id, owner string) {
	tick := time.NewTicker(s.opts.SessionLease / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			now := s.now()
			_, _ = s.st.SessionAcquire(ctx, id, owner, now, now.Add(s.opts.SessionLease))
		}
	}
}

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
		return nil, errSessionBusy()
	case <-ctx.Done():
		leave()
		return nil, context.Cause(ctx)
	}
}
