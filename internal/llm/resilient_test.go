package llm_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
)

func TestRetryBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{errs: []error{fail(500, 0), fail(503, 0)}}
		resp, err := llm.Resilient(s, llm.ResilienceOptions{}).Chat(t.Context(), llm.Request{})
		if err != nil || resp.Content != "ok" {
			t.Fatalf("Chat = %+v, %v", resp, err)
		}
		gaps := s.gaps()
		if len(gaps) != 2 {
			t.Fatalf("%d calls, want 3", s.count())
		}
		between(t, "first backoff", gaps[0], 400*time.Millisecond, 600*time.Millisecond)
		between(t, "second backoff", gaps[1], 800*time.Millisecond, 1200*time.Millisecond)
	})
}

func TestBackoffIsCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{errs: []error{fail(0, 0), fail(0, 0), fail(0, 0), fail(0, 0), fail(0, 0)}}
		o := llm.ResilienceOptions{MaxAttempts: 6, InitialBackoff: 10 * time.Second, MaxBackoff: 30 * time.Second, FailureThreshold: 10}
		if _, err := llm.Resilient(s, o).Chat(t.Context(), llm.Request{}); err != nil {
			t.Fatal(err)
		}
		gaps := s.gaps()
		between(t, "backoff 1", gaps[0], 8*time.Second, 12*time.Second)
		between(t, "backoff 2", gaps[1], 16*time.Second, 24*time.Second)
		for i, g := range gaps[2:] {
			between(t, fmt.Sprintf("backoff %d", i+3), g, 24*time.Second, 30*time.Second)
		}
	})
}

func TestRetryGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{errs: []error{fail(500, 0), fail(500, 0), fail(500, 0), fail(500, 0)}}
		_, err := llm.Resilient(s, llm.ResilienceOptions{}).Chat(t.Context(), llm.Request{})
		g := checkCode(t, err, gathering.EUNAVAILABLE)
		checkStatus(t, err, 500)
		if s.count() != 3 || g.Message != "The provider fake is unavailable: scripted failure" {
			t.Errorf("%d calls, message %q", s.count(), g.Message)
		}
	})
}

func TestRetryAfterIsHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{errs: []error{fail(429, 5*time.Second), fail(503, 100*time.Millisecond)}}
		if _, err := llm.Resilient(s, llm.ResilienceOptions{}).Chat(t.Context(), llm.Request{}); err != nil {
			t.Fatal(err)
		}
		gaps := s.gaps()
		between(t, "wait after Retry-After: 5", gaps[0], 5*time.Second, 5*time.Second)
		between(t, "wait after a short Retry-After", gaps[1], 800*time.Millisecond, 1200*time.Millisecond)
	})
}

func TestLongRetryAfterFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{errs: []error{fail(429, 2*time.Minute)}}
		start := time.Now()
		_, err := llm.Resilient(s, llm.ResilienceOptions{}).Chat(t.Context(), llm.Request{})
		g := checkCode(t, err, gathering.ERATELIMITED)
		if s.count() != 1 || g.RetryAfter != 2*time.Minute || time.Since(start) != 0 {
			t.Errorf("%d calls, RetryAfter %v, after %v", s.count(), g.RetryAfter, time.Since(start))
		}
	})
}

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		status  int
		code    string
		calls   int
		message string
	}{
		{400, gathering.EINVALID, 1, "The provider fake refused the request: scripted failure"},
		{404, gathering.EINVALID, 1, "The provider fake refused the request: scripted failure"},
		{422, gathering.EINVALID, 1, "The provider fake refused the request: scripted failure"},
		{401, gathering.EUNAVAILABLE, 1, "The provider fake rejected the API key."},
		{403, gathering.EUNAVAILABLE, 1, "The provider fake rejected the API key."},
		{413, gathering.EUNAVAILABLE, 1, "The provider fake is unavailable: scripted failure"},
		{408, gathering.EUNAVAILABLE, 3, "The provider fake is unavailable: scripted failure"},
		{429, gathering.ERATELIMITED, 3, "The provider fake is rate limiting calls; try again later."},
		{502, gathering.EUNAVAILABLE, 3, "The provider fake is unavailable: scripted failure"},
		{0, gathering.EUNAVAILABLE, 3, "The provider fake is unavailable: scripted failure"},
	} {
		t.Run(fmt.Sprintf("HTTP %d", tc.status), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &scripted{errs: []error{fail(tc.status, 0), fail(tc.status, 0), fail(tc.status, 0)}}
				_, err := llm.Resilient(s, llm.ResilienceOptions{}).Chat(t.Context(), llm.Request{})
				g := checkCode(t, err, tc.code)
				checkStatus(t, err, tc.status)
				if s.count() != tc.calls || g.Message != tc.message {
					t.Errorf("HTTP %d: %d calls, message %q; want %d calls, %q", tc.status, s.count(), g.Message, tc.calls, tc.message)
				}
			})
		})
	}
}

func TestContextEndPassesThrough(t *testing.T) {
	t.Run("cancelled during the backoff", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(100*time.Millisecond, cancel)
			s := &scripted{errs: []error{fail(500, 0)}}
			_, err := llm.Resilient(s, llm.ResilienceOptions{}).Chat(ctx, llm.Request{})
			if err != context.Canceled || s.count() != 1 {
				t.Errorf("Chat = %v after %d calls, want context.Canceled after 1", err, s.count())
			}
		})
	})
	t.Run("deadline during the call", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			s := &scripted{gate: make(chan struct{})}
			_, err := llm.Resilient(s, llm.ResilienceOptions{}).Chat(ctx, llm.Request{})
			if _, ok := errors.AsType[*gathering.Error](err); ok || !errors.Is(err, context.DeadlineExceeded) || s.count() != 1 {
				t.Errorf("Chat = %v after %d calls, want the provider's deadline error unchanged", err, s.count())
			}
		})
	})
	t.Run("deadline before the retry", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			s := &scripted{errs: []error{fail(503, 0)}}
			start := time.Now()
			_, err := llm.Resilient(s, llm.ResilienceOptions{}).Chat(ctx, llm.Request{})
			checkCode(t, err, gathering.EUNAVAILABLE)
			if s.count() != 1 || time.Since(start) != 0 {
				t.Errorf("%d calls in %v, want 1 and no wait for a retry that cannot happen", s.count(), time.Since(start))
			}
		})
	})
}

func TestStreamRetry(t *testing.T) {
	t.Run("failed before a delta", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := &scripted{errs: []error{fail(500, 0)}}
			resp, err := llm.Resilient(s, llm.ResilienceOptions{}).Stream(t.Context(), llm.Request{}, func(llm.Delta) error { return nil })
			if err != nil || resp.Content != "ok" || s.count() != 2 {
				t.Errorf("Stream = %+v, %v after %d calls, want a success on the retry", resp, err, s.count())
			}
		})
	})
	t.Run("failed after a delta", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := &scripted{errs: []error{fail(500, 0)}, deltas: 1}
			n := 0
			_, err := llm.Resilient(s, llm.ResilienceOptions{}).Stream(t.Context(), llm.Request{}, func(llm.Delta) error { n++; return nil })
			checkCode(t, err, gathering.EUNAVAILABLE)
			if s.count() != 1 || n != 1 {
				t.Errorf("%d calls, %d deltas; want no retry", s.count(), n)
			}
		})
	})
	t.Run("emit error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := &scripted{deltas: 1}
			stop := errors.New("the client went away")
			p := llm.Resilient(s, llm.ResilienceOptions{})
			_, err := p.Stream(t.Context(), llm.Request{}, func(llm.Delta) error { return stop })
			if err != stop || p.(llm.BreakerReporter).BreakerState() != llm.BreakerClosed {
				t.Errorf("Stream = %v, want the emit error unchanged", err)
			}
		})
	})
}

func TestEmbedIsWrapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{errs: []error{fail(502, 0)}}
		vecs, usage, err := llm.Resilient(s, llm.ResilienceOptions{}).Embed(t.Context(), "e", []string{"a", "b"})
		if err != nil || len(vecs) != 2 || usage.InputTokens != 2 || s.count() != 2 {
			t.Errorf("Embed = %d vectors, %+v, %v after %d calls", len(vecs), usage, err, s.count())
		}
	})
}

func TestConcurrencyLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{gate: make(chan struct{})}
		p := llm.Resilient(s, llm.ResilienceOptions{MaxConcurrent: 2})
		errs := make(chan error, 4)
		for range 4 {
			go func() { _, err := p.Chat(t.Context(), llm.Request{}); errs <- err }()
		}
		synctest.Wait()
		if s.count() != 2 {
			t.Fatalf("%d calls in flight, want 2", s.count())
		}
		ctx, cancel := context.WithCancel(t.Context())
		go func() { _, err := p.Chat(ctx, llm.Request{}); errs <- err }()
		synctest.Wait()
		cancel()
		if err := <-errs; err != context.Canceled {
			t.Errorf("a waiting call whose context ended returned %v", err)
		}
		close(s.gate)
		for range 4 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		if s.peak != 2 || s.count() != 4 {
			t.Errorf("%d calls, %d at most in flight; want 4 and 2", s.count(), s.peak)
		}
	})
}
