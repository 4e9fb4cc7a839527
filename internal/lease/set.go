// Package lease keeps the work one instance holds under leases: pipeline
// runs, schedule runs, background tasks, conversations. Each piece runs in
// its own goroutine, at most a set number at once; a heartbeat renews all
// their leases together and cuts off the work whose lease was lost; at
// shutdown the set lets the work finish until a deadline, then cuts off
// the rest. A Loop claims the work and beats the heartbeat.
package lease

import (
	"context"
	"sync"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Set is the work one instance holds under leases, by lease id, with a
// value of type T for each. Use New; its methods are safe for concurrent
// use.
type Set[T any] struct {
	max   int
	ended func()

	mu       sync.Mutex
	live     map[string]held[T]
	stopping chan struct{} // closed when Stop begins
	wg       sync.WaitGroup
}

// held is one piece of work.
type held[T any] struct {
	lease  store.Lease
	cancel context.CancelCauseFunc
	value  T
}

// New returns a set that runs at most max pieces of work at once and calls
// ended (when not nil) after each one ends: there is room again.
func New[T any](max int, ended func()) *Set[T] {
	return &Set[T]{max: max, ended: ended, live: map[string]held[T]{}, stopping: make(chan struct{})}
}

// Room reports whether n more pieces of work may start: the set is not
// stopping and holds at most max-n.
func (s *Set[T]) Room(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stopping:
		return false
	default:
		return len(s.live)+n <= s.max
	}
}

// Go holds v under lease l and runs work in its own goroutine. cancel ends
// the context work runs under: Cancel, Renew and Stop call it with their
// cause. When work returns, v is forgotten and ended is called. Once Stop
// has begun, Go runs nothing and returns false: the caller gives the lease
// up.
func (s *Set[T]) Go(l store.Lease, v T, cancel context.CancelCauseFunc, work func()) bool {
	s.mu.Lock()
	select {
	case <-s.stopping:
		s.mu.Unlock()
		cancel(nil)
		return false
	default:
	}
	s.live[l.RunID] = held[T]{lease: l, cancel: cancel, value: v}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			cancel(nil)
			s.mu.Lock()
			if h, ok := s.live[l.RunID]; ok && h.lease == l { // not a later claim of the same id
				delete(s.live, l.RunID)
			}
			s.mu.Unlock()
			if s.ended != nil {
				s.ended()
			}
		}()
		work()
	}()
	return true
}

// Get returns the value of the work held for id.
func (s *Set[T]) Get(id string) (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.live[id]
	return h.value, ok
}

// Cancel cuts off the work held for id, with cause; nothing when there is
// none.
func (s *Set[T]) Cancel(id string, cause error) {
	s.mu.Lock()
	h, ok := s.live[id]
	s.mu.Unlock()
	if ok {
		h.cancel(cause)
	}
}

// Renew extends every lease the set holds with extend, which returns the
// ids of the leases that no longer hold; their work is cut off with lost.
// It returns extend's error.
func (s *Set[T]) Renew(ctx context.Context, extend func(context.Context, []store.Lease) ([]string, error), lost error) error {
	s.mu.Lock()
	leases := make([]store.Lease, 0, len(s.live))
	for _, h := range s.live {
		leases = append(leases, h.lease)
	}
	s.mu.Unlock()
	if len(leases) == 0 {
		return nil
	}
	gone, err := extend(ctx, leases)
	for _, id := range gone {
		s.Cancel(id, lost)
	}
	return err
}

// Stopping is closed when Stop begins.
func (s *Set[T]) Stopping() <-chan struct{} { return s.stopping }

// Stop makes Room false, lets the work held finish until ctx ends, then
// cuts off what still runs with cause and waits for it to return.
func (s *Set[T]) Stop(ctx context.Context, cause error) {
	s.mu.Lock()
	select {
	case <-s.stopping:
	default:
		close(s.stopping)
	}
	s.mu.Unlock()
	drained := make(chan struct{})
	go func() { s.wg.Wait(); close(drained) }()
	select {
	case <-drained:
		return
	case <-ctx.Done():
	}
	s.mu.Lock()
	for _, h := range s.live {
		h.cancel(cause)
	}
	s.mu.Unlock()
	<-drained
}

// Fill claims work with claim while s has room and hands each piece to
// start. It stops when claim finds none (ENOTFOUND) or fails, and returns
// the failure: nil when nothing was left or ctx ended.
func Fill[T, W any](ctx context.Context, s *Set[T], claim func(context.Context) (W, error), start func(W)) error {
	for s.Room(1) {
		w, err := claim(ctx)
		if err != nil {
			if gathering.ErrorCode(err) == gathering.ENOTFOUND || ctx.Err() != nil {
				return nil
			}
			return err
		}
		start(w)
	}
	return nil
}
