package engine

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// The states of a breaker.
const (
	BreakerClosed   = "closed"
	BreakerOpen     = "open"
	BreakerHalfOpen = "half_open"
)

// BreakerState is one breaker as the API shows it.
type BreakerState struct {
	Target   string    `json:"target"`
	State    string    `json:"state"`
	Failures int       `json:"consecutive_failures"`
	OpenedAt time.Time `json:"opened_at,omitzero"`
	// Until is when an open breaker lets a probe through.
	Until time.Time `json:"until,omitzero"`
}

// breakers holds one circuit breaker per target, shared by every run of
// the process. A breaker opens after threshold consecutive exhausted
// failures and stays open for coolDown; then one probe is let through
// (half open): its success closes the breaker, its failure opens it again.
type breakers struct {
	threshold int
	coolDown  time.Duration
	now       func() time.Time

	mu  sync.Mutex
	all map[string]*breaker
}

// breaker is one target's state.
type breaker struct {
	failures int
	openedAt time.Time // zero while closed
	probing  bool      // a half-open probe is in flight
}

func newBreakers(threshold int, coolDown time.Duration, now func() time.Time) *breakers {
	return &breakers{threshold: threshold, coolDown: coolDown, now: now, all: map[string]*breaker{}}
}

// allow asks to run a node on target. It returns the function that
// reports the node's outcome: exhausted is true when its attempts ended in
// a retryable failure, false on success; a node that failed for another
// reason reports nothing. An open breaker refuses with EUNAVAILABLE.
func (bs *breakers) allow(target string) (report func(exhausted bool), err error) {
	if target == "" {
		return func(bool) {}, nil
	}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.all[target]
	if b == nil {
		b = &breaker{}
		bs.all[target] = b
	}
	probe := false
	if !b.openedAt.IsZero() {
		until := b.openedAt.Add(bs.coolDown)
		if b.probing || bs.now().Before(until) {
			return nil, gathering.Errorf(gathering.EUNAVAILABLE,
				"The circuit breaker for %s is open after %d consecutive failures; it lets a probe through at %s.",
				target, b.failures, until.UTC().Format(time.RFC3339))
		}
		b.probing, probe = true, true
	}
	return func(exhausted bool) { bs.report(b, probe, exhausted) }, nil
}

// report records one outcome on b.
func (bs *breakers) report(b *breaker, probe, exhausted bool) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if probe {
		b.probing = false
	}
	if !exhausted {
		b.failures, b.openedAt = 0, time.Time{}
		return
	}
	b.failures++
	if probe || b.failures >= bs.threshold {
		b.openedAt = bs.now()
	}
}

// states returns every breaker, by target.
func (bs *breakers) states() []BreakerState {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	out := make([]BreakerState, 0, len(bs.all))
	now := bs.now()
	for target, b := range bs.all {
		s := BreakerState{Target: target, State: BreakerClosed, Failures: b.failures}
		if !b.openedAt.IsZero() {
			s.OpenedAt, s.Until, s.State = b.openedAt.UTC(), b.openedAt.Add(bs.coolDown).UTC(), BreakerOpen
			if b.probing || !now.Before(s.Until) {
				s.State = BreakerHalfOpen
			}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b BreakerState) int { return strings.Compare(a.Target, b.Target) })
	return out
}
