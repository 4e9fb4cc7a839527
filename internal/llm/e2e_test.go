package llm_test

import (
	"context"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
)

// TestRetryAfterOverTheWire retries the real client against the fake
// server, which answers 429 with Retry-After: 1, then the answer.
func TestRetryAfterOverTheWire(t *testing.T) {
	t.Parallel()
	srv := openaitest.New(t)
	srv.Push(openaitest.Reply{Status: 429, RetryAfter: "1"}, openaitest.Reply{Content: "finally"})
	p := llm.Resilient(openai.New(openai.Config{BaseURL: srv.URL}), llm.ResilienceOptions{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var c []llm.Delta
	resp, err := p.Stream(ctx, llm.Request{Model: "m"}, func(d llm.Delta) error { c = append(c, d); return nil })
	if err != nil || resp.Content != "finally" || len(c) == 0 {
		t.Fatalf("Stream = %+v, %v", resp, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < time.Second {
		t.Errorf("the retry came %v after the 429, want at least 1 s", gap)
	}
}
