package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
)

// testKey is the API key the fake server requires in most tests.
const testKey = "sk-test-0123456789"

// setup starts a fake server requiring testKey and a client for it.
func setup(t *testing.T) (*openaitest.Server, llm.Provider) {
	t.Helper()
	srv := openaitest.New(t)
	srv.RequireKey(testKey)
	return srv, newClient(srv, testKey)
}

// newClient returns a client of srv sending key.
func newClient(srv *openaitest.Server, key string) llm.Provider {
	return openai.New(openai.Config{Name: "fake", BaseURL: srv.URL, APIKey: key})
}

// testContext bounds a test's calls so that a bug hangs no test for long.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// collect is an emit func recording the deltas.
type collect struct{ deltas []llm.Delta }

// emit implements the emit func of Stream.
func (c *collect) emit(d llm.Delta) error {
	c.deltas = append(c.deltas, d)
	return nil
}

// text joins the token deltas.
func (c *collect) text() string {
	s := ""
	for _, d := range c.deltas {
		if d.Kind == llm.DeltaToken {
			s += d.Text
		}
	}
	return s
}

// asLLMError returns err as an *llm.Error or fails the test.
func asLLMError(t *testing.T, err error) *llm.Error {
	t.Helper()
	e, ok := errors.AsType[*llm.Error](err)
	if !ok {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	return e
}

// jsonEqual fails the test unless got (decoded JSON) equals the JSON text
// want.
func jsonEqual(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected JSON for %s: %v", what, err)
	}
	if !reflect.DeepEqual(got, w) {
		g, _ := json.Marshal(got)
		t.Errorf("%s:\n got %s\nwant %s", what, g, want)
	}
}
