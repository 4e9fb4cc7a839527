package openai_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
)

// call makes a chat or stream call of p, for tests that check both.
type call func(ctx context.Context, p llm.Provider) (llm.Response, error)

// calls are the two ways to ask for an answer.
var calls = map[string]call{
	"chat": func(ctx context.Context, p llm.Provider) (llm.Response, error) {
		return p.Chat(ctx, llm.Request{Model: "m"})
	},
	"stream": func(ctx context.Context, p llm.Provider) (llm.Response, error) {
		var c collect
		return p.Stream(ctx, llm.Request{Model: "m"}, c.emit)
	},
}

func TestRateLimited(t *testing.T) {
	t.Parallel()
	date := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	for name, c := range calls {
		for _, tc := range []struct {
			header   string
			min, max time.Duration
		}{{"7", 7 * time.Second, 7 * time.Second}, {date, 28 * time.Second, 30 * time.Second}} {
			t.Run(name+" "+tc.header, func(t *testing.T) {
				t.Parallel()
				srv, p := setup(t)
				srv.Push(openaitest.Reply{Status: 429, Error: "Rate limit reached, slow down", RetryAfter: tc.header})
				_, err := c(testContext(t), p)
				e := asLLMError(t, err)
				if e.Status != 429 || e.Message != "Rate limit reached, slow down" || e.Provider != "fake" || !e.Retryable() {
					t.Errorf("error = %+v", e)
				}
				if e.RetryAfter < tc.min || e.RetryAfter > tc.max {
					t.Errorf("RetryAfter = %v, want %v to %v", e.RetryAfter, tc.min, tc.max)
				}
			})
		}
	}
}

func TestStatusErrors(t *testing.T) {
	t.Parallel()
	for name, c := range calls {
		for _, tc := range []struct {
			status    int
			retryable bool
		}{{500, true}, {503, true}, {400, false}, {404, false}} {
			t.Run(name+" "+http.StatusText(tc.status), func(t *testing.T) {
				t.Parallel()
				srv, p := setup(t)
				srv.Push(openaitest.Reply{Status: tc.status})
				resp, err := c(testContext(t), p)
				e := asLLMError(t, err)
				if e.Status != tc.status || e.Retryable() != tc.retryable || e.Message != http.StatusText(tc.status) || e.RetryAfter != 0 {
					t.Errorf("error = %+v", e)
				}
				if resp.Content != "" || resp.Model != "" {
					t.Errorf("a failed call returned %+v", resp)
				}
			})
		}
	}
}

func TestLongErrorMessageIsShortened(t *testing.T) {
	t.Parallel()
	srv, p := setup(t)
	srv.Push(openaitest.Reply{Status: 400, Error: strings.Repeat("é", 5000)})
	_, err := p.Chat(testContext(t), llm.Request{Model: "m"})
	if n := len([]rune(asLLMError(t, err).Message)); n > 500 || n < 400 {
		t.Errorf("message of %d characters, want at most 500", n)
	}
}

func TestBrokenAnswers(t *testing.T) {
	t.Parallel()
	for name, c := range calls {
		for what, reply := range map[string]openaitest.Reply{
			"malformed": {Content: "partial answer", Malformed: true},
			"truncated": {Content: "partial answer", Truncate: true, Chunks: 6},
		} {
			t.Run(name+" "+what, func(t *testing.T) {
				t.Parallel()
				srv, p := setup(t)
				srv.Push(reply)
				resp, err := c(testContext(t), p)
				e := asLLMError(t, err)
				if e.Status != 0 || !e.Retryable() || errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("error = %v, want a broken answer", err)
				}
				if resp.Content != "" {
					t.Errorf("a broken answer returned %+v", resp)
				}
			})
		}
	}
}

func TestStallEndsWithTheDeadline(t *testing.T) {
	t.Parallel()
	for name, c := range calls {
		t.Run(name+" context", func(t *testing.T) {
			t.Parallel()
			srv, p := setup(t)
			srv.Push(openaitest.Reply{Content: "late", Stall: time.Minute})
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			checkStalled(t, func() error { _, err := c(ctx, p); return err })
		})
		t.Run(name+" client timeout", func(t *testing.T) {
			t.Parallel()
			srv := openaitest.New(t)
			srv.Push(openaitest.Reply{Content: "late", Stall: time.Minute})
			p := openai.New(openai.Config{BaseURL: srv.URL, Timeout: 200 * time.Millisecond})
			checkStalled(t, func() error { _, err := c(t.Context(), p); return err })
		})
	}
}

// checkStalled checks that f fails soon with a deadline error.
func checkStalled(t *testing.T, f func() error) {
	t.Helper()
	start := time.Now()
	err := f()
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("the call took %v", elapsed)
	}
	asLLMError(t, err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want a deadline", err)
	}
}

func TestEmitErrorEndsTheStream(t *testing.T) {
	t.Parallel()
	srv, p := setup(t)
	srv.Push(openaitest.Reply{Content: "one two three", Chunks: 3})
	stop := errors.New("client went away")
	n := 0
	_, err := p.Stream(testContext(t), llm.Request{Model: "m"}, func(llm.Delta) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Stream = %v after %d deltas, want the emit error after 1", err, n)
	}
}

func TestKeyNeverInErrors(t *testing.T) {
	t.Parallel()
	const secret = "sk-wrong-SECRET-4242"
	srv := openaitest.New(t)
	srv.RequireKey(testKey)
	p := newClient(srv, secret)
	errs := make([]error, 0, 4)
	for _, c := range calls {
		_, err := c(testContext(t), p)
		errs = append(errs, err)
	}
	_, _, err := p.Embed(testContext(t), "e", []string{"x"})
	errs = append(errs, err)
	unreachable := openai.New(openai.Config{BaseURL: "http://127.0.0.1:1/v1", APIKey: secret})
	_, err = unreachable.Chat(testContext(t), llm.Request{Model: "m"})
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(asLLMError(t, err).Message, secret) {
			t.Errorf("error %d = %v", i, err)
		}
	}
	if e := asLLMError(t, errs[0]); e.Status != 401 || !strings.Contains(e.Message, "[redacted]") {
		t.Errorf("401 error = %+v, want the echoed key masked", e)
	}
}
