package llm_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
)

// scripted is the provider under a Resilient wrapper in these tests: its
// calls return the scripted errors in turn (nil, or the script running
// out, is a success) and it records when each call came.
type scripted struct {
	mu       sync.Mutex
	errs     []error
	calls    []time.Time
	gate     chan struct{} // when set, each call waits for it to close
	inflight int
	peak     int // the most calls in flight at once
	deltas   int // tokens a stream emits before its outcome
}

// fail returns an *llm.Error with the status and Retry-After.
func fail(status int, retryAfter time.Duration) error {
	return &llm.Error{Provider: "fake", Status: status, Message: "scripted failure", RetryAfter: retryAfter}
}

// Name implements llm.Provider.
func (s *scripted) Name() string { return "fake" }

// next records a call and returns its scripted outcome, after the gate.
func (s *scripted) next(ctx context.Context) error {
	s.mu.Lock()
	s.calls = append(s.calls, time.Now())
	var err error
	if len(s.errs) > 0 {
		err, s.errs = s.errs[0], s.errs[1:]
	}
	s.inflight++
	s.peak = max(s.peak, s.inflight)
	gate := s.gate
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
	}()
	if gate == nil {
		return err
	}
	select {
	case <-gate:
		return err
	case <-ctx.Done():
		return &llm.Error{Provider: "fake", Message: "request failed", Err: ctx.Err()}
	}
}

// Chat implements llm.Provider.
func (s *scripted) Chat(ctx context.Context, _ llm.Request) (llm.Response, error) {
	if err := s.next(ctx); err != nil {
		return llm.Response{}, err
	}
	return llm.Response{Content: "ok"}, nil
}

// Stream implements llm.Provider: it emits s.deltas tokens, then ends as
// scripted.
func (s *scripted) Stream(ctx context.Context, _ llm.Request, emit func(llm.Delta) error) (llm.Response, error) {
	for range s.deltas {
		if err := emit(llm.Delta{Kind: llm.DeltaToken, Text: "o"}); err != nil {
			return llm.Response{}, err
		}
	}
	if err := s.next(ctx); err != nil {
		return llm.Response{}, err
	}
	return llm.Response{Content: "ok"}, nil
}

// Embed implements llm.Provider.
func (s *scripted) Embed(ctx context.Context, _ string, inputs []string) ([][]float32, llm.Usage, error) {
	if err := s.next(ctx); err != nil {
		return nil, llm.Usage{}, err
	}
	return make([][]float32, len(inputs)), llm.Usage{InputTokens: len(inputs)}, nil
}

// count returns how many calls came.
func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// gaps returns the time between consecutive calls.
func (s *scripted) gaps() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	for i := 1; i < len(s.calls); i++ {
		out = append(out, s.calls[i].Sub(s.calls[i-1]))
	}
	return out
}

// checkCode fails the test unless err is a *gathering.Error with code.
func checkCode(t *testing.T, err error, code string) *gathering.Error {
	t.Helper()
	g, ok := errors.AsType[*gathering.Error](err)
	if !ok || g.Code != code {
		t.Fatalf("error = %v (%T), want code %s", err, err, code)
	}
	return g
}

// checkStatus fails the test unless err wraps an *llm.Error with status.
func checkStatus(t *testing.T, err error, status int) {
	t.Helper()
	if e, ok := errors.AsType[*llm.Error](err); !ok || e.Status != status {
		t.Errorf("error %v does not wrap the provider's HTTP %d", err, status)
	}
}

// between fails the test unless lo <= d <= hi.
func between(t *testing.T, what string, d, lo, hi time.Duration) {
	t.Helper()
	if d < lo || d > hi {
		t.Errorf("%s = %v, want %v to %v", what, d, lo, hi)
	}
}
