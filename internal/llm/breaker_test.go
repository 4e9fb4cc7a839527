package llm_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
)

// transitions records the breaker's state changes.
type transitions struct {
	mu   sync.Mutex
	list []string
}

// record is an OnStateChange func.
func (tr *transitions) record(provider, from, to string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.list = append(tr.list, provider+": "+from+" → "+to)
}

// check fails the test unless the changes so far are want.
func (tr *transitions) check(t *testing.T, want ...string) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !slices.Equal(tr.list, want) {
		t.Errorf("state changes = %q, want %q", tr.list, want)
	}
}

// breakerSetup wraps s with a breaker opening after 5 failures, without
// retries, recording its state changes.
func breakerSetup(s *scripted) (llm.Provider, *transitions) {
	tr := &transitions{}
	return llm.Resilient(s, llm.ResilienceOptions{MaxAttempts: 1, OnStateChange: tr.record}), tr
}

// state returns the breaker state of p.
func state(p llm.Provider) string { return p.(llm.BreakerReporter).BreakerState() }

// failures returns n scripted 503s.
func failures(n int) []error {
	var errs []error
	for range n {
		errs = append(errs, fail(503, 0))
	}
	return errs
}

func TestBreakerOpensAndRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{errs: failures(5)}
		p, tr := breakerSetup(s)
		for i := range 5 {
			if state(p) != llm.BreakerClosed {
				t.Fatalf("the breaker opened after %d failures", i)
			}
			_, err := p.Chat(t.Context(), llm.Request{})
			checkCode(t, err, gathering.EUNAVAILABLE)
		}
		tr.check(t, "fake: closed → open")
		checkRefused(t, p, 30*time.Second)
		time.Sleep(10 * time.Second)
		checkRefused(t, p, 20*time.Second)
		if s.count() != 5 || state(p) != llm.BreakerOpen {
			t.Fatalf("%d calls reached the provider, breaker %s", s.count(), state(p))
		}
		time.Sleep(20*time.Second + time.Millisecond)
		if state(p) != llm.BreakerHalfOpen {
			t.Fatalf("breaker %s after the open timeout, want half-open", state(p))
		}
		probe(t, s, p)
		tr.check(t, "fake: closed → open", "fake: open → half-open", "fake: half-open → closed")
		if _, err := p.Chat(t.Context(), llm.Request{}); err != nil || state(p) != llm.BreakerClosed {
			t.Errorf("after recovery: %v, breaker %s", err, state(p))
		}
	})
}

// checkRefused checks that a call is refused at once, paused for wait.
func checkRefused(t *testing.T, p llm.Provider, wait time.Duration) {
	t.Helper()
	start := time.Now()
	_, err := p.Chat(t.Context(), llm.Request{})
	g := checkCode(t, err, gathering.EUNAVAILABLE)
	msg := fmt.Sprintf("The provider fake is failing; calls are paused for %d s.", int(wait/time.Second))
	if g.Message != msg || g.RetryAfter != wait || !errors.Is(err, llm.ErrCircuitOpen) || time.Since(start) != 0 {
		t.Errorf("refusal %q, RetryAfter %v, %v; want %q, %v", g.Message, g.RetryAfter, err, msg, wait)
	}
}

// probe lets one call through the half-open breaker of p, checks that
// another is refused meanwhile, and lets the probe succeed.
func probe(t *testing.T, s *scripted, p llm.Provider) {
	t.Helper()
	s.gate = make(chan struct{})
	done := make(chan error)
	go func() { _, err := p.Chat(t.Context(), llm.Request{}); done <- err }()
	synctest.Wait()
	checkRefused(t, p, time.Second)
	close(s.gate)
	if err := <-done; err != nil {
		t.Errorf("the probe failed: %v", err)
	}
	s.gate = nil
}

func TestBreakerProbeFailureReopens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{errs: failures(6)}
		p, tr := breakerSetup(s)
		for range 5 {
			_, _ = p.Chat(t.Context(), llm.Request{})
		}
		time.Sleep(31 * time.Second)
		_, err := p.Chat(t.Context(), llm.Request{})
		checkStatus(t, err, 503)
		tr.check(t, "fake: closed → open", "fake: open → half-open", "fake: half-open → open")
		checkRefused(t, p, 30*time.Second)
	})
}

func TestBreakerIgnoresRefusalsAndCancellations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var errs []error
		for _, status := range []int{400, 401, 403, 404, 422, 400, 401} {
			errs = append(errs, fail(status, 0))
		}
		s := &scripted{errs: append(failures(4), errs...)}
		p, tr := breakerSetup(s)
		for range len(s.errs) {
			_, _ = p.Chat(t.Context(), llm.Request{})
		}
		for range 5 {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			_, _ = p.Chat(ctx, llm.Request{})
		}
		if state(p) != llm.BreakerClosed {
			t.Errorf("breaker %s after 4 failures, refusals and cancellations", state(p))
		}
		tr.check(t)
	})
}

func TestBreakerOpensDuringRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{errs: failures(3)}
		p := llm.Resilient(s, llm.ResilienceOptions{FailureThreshold: 2})
		_, err := p.Chat(t.Context(), llm.Request{})
		g := checkCode(t, err, gathering.EUNAVAILABLE)
		checkStatus(t, err, 503)
		if s.count() != 2 || !errors.Is(err, llm.ErrCircuitOpen) || g.RetryAfter != 30*time.Second {
			t.Errorf("%d calls, error %v (RetryAfter %v); want the breaker's refusal after 2", s.count(), err, g.RetryAfter)
		}
	})
}

func TestStateChangeCallbackMayReadTheState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p llm.Provider
		var seen []string
		o := llm.ResilienceOptions{MaxAttempts: 1, FailureThreshold: 1, OnStateChange: func(_, _, to string) {
			seen = append(seen, to+"="+state(p))
		}}
		p = llm.Resilient(&scripted{errs: failures(1)}, o)
		_, _ = p.Chat(t.Context(), llm.Request{})
		if !slices.Equal(seen, []string{"open=open"}) {
			t.Errorf("the callback saw %q", seen)
		}
	})
}
