package anthropic

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/anthropic/anthropictest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testKey is the API key the tests use.
const testKey = "sk-ant-test-0123456789abcdef"

// newProvider is a provider talking to s with testKey, after the changes of
// tune.
func newProvider(s *anthropictest.Server, tune ...func(*Config)) llm.Provider {
	cfg := Config{Name: "claude", BaseURL: s.URL(), APIKey: testKey, HTTPClient: s.Client(), Timeout: 10 * time.Second}
	for _, f := range tune {
		f(&cfg)
	}
	return New(cfg)
}

// ask is a one-message request.
func ask(text string) llm.Request {
	return llm.Request{Model: "claude-test", Messages: []llm.Message{{Role: llm.RoleUser, Content: text}}}
}

// collect streams req and returns the answer with the deltas emitted.
func collect(ctx context.Context, p llm.Provider, req llm.Request) (llm.Response, []llm.Delta, error) {
	var deltas []llm.Delta
	resp, err := p.Stream(ctx, req, func(d llm.Delta) error {
		deltas = append(deltas, d)
		return nil
	})
	return resp, deltas, err
}

// call makes req with Chat, or Stream when stream is set.
func call(p llm.Provider, req llm.Request, stream bool) (llm.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if stream {
		resp, _, err := collect(ctx, p, req)
		return resp, err
	}
	return p.Chat(ctx, req)
}

// providerError is err as an *llm.Error, failing the test otherwise.
func providerError(t *testing.T, err error) *llm.Error {
	t.Helper()
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	if e.Provider != "claude" {
		t.Errorf("Provider = %q, want claude", e.Provider)
	}
	return e
}

// modes are the two ways of calling, for table tests.
var modes = []struct {
	name   string
	stream bool
}{{"chat", false}, {"stream", true}}
