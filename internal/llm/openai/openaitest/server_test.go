package openaitest_test

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recorder is a testing.TB that keeps the errors reported to it.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

// Errorf records an error instead of failing the test.
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// post sends body to the server's path and returns the status and body.
func post(t *testing.T, s *openaitest.Server, path, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(s.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

func TestEmptyScriptFailsTheTest(t *testing.T) {
	t.Parallel()
	rec := &recorder{TB: t}
	s := openaitest.New(rec)
	status, _ := post(t, s, "/chat/completions", `{"model":"m"}`)
	if status != 500 || len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "script empty") {
		t.Errorf("status %d, errors %q; want 500 and the test failed", status, rec.errs)
	}
}

func TestFallback(t *testing.T) {
	t.Parallel()
	s := openaitest.New(t)
	s.SetFallback(openaitest.Reply{Content: "always"})
	s.Push(openaitest.Reply{Content: "first"})
	for _, want := range []string{"first", "always", "always"} {
		if _, body := post(t, s, "/chat/completions", `{"model":"m"}`); !strings.Contains(body, `"content":"`+want+`"`) {
			t.Errorf("body %s, want %q", body, want)
		}
	}
	if s.Pending() != 0 || len(s.Requests()) != 3 {
		t.Errorf("%d pending, %d requests", s.Pending(), len(s.Requests()))
	}
}

func TestStreamWireFormat(t *testing.T) {
	t.Parallel()
	s := openaitest.New(t)
	reply := openaitest.Reply{Content: "hey", Usage: llm.Usage{InputTokens: 3, OutputTokens: 1}}
	s.Push(reply, reply)
	_, without := post(t, s, "/chat/completions", `{"model":"m","stream":true}`)
	_, with := post(t, s, "/chat/completions", `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`)
	if strings.Contains(without, `"prompt_tokens"`) || !strings.Contains(with, `"choices":[],"created"`) || !strings.Contains(with, `"prompt_tokens":3`) {
		t.Errorf("usage chunk sent unasked or missing:\n%s\n%s", without, with)
	}
	for _, body := range []string{without, with} {
		if !strings.HasPrefix(body, "data: {") || !strings.HasSuffix(body, "data: [DONE]\n\n") || strings.Count(body, `"finish_reason":"stop"`) != 1 {
			t.Errorf("stream body:\n%s", body)
		}
	}
}

func TestRequireKey(t *testing.T) {
	t.Parallel()
	s := openaitest.New(t)
	s.RequireKey("sk-right")
	status, body := post(t, s, "/embeddings", `{"model":"e","input":"x"}`)
	if status != 401 || !strings.Contains(body, "Incorrect API key") {
		t.Errorf("without a key: %d %s", status, body)
	}
}

func TestEmbedding(t *testing.T) {
	t.Parallel()
	a, b := openaitest.Embedding("some text", 64), openaitest.Embedding("other text", 64)
	if !slices.Equal(a, openaitest.Embedding("some text", 64)) || slices.Equal(a, b) {
		t.Error("the vector is not a function of the text")
	}
	norm := 0.0
	for _, x := range a {
		norm += float64(x) * float64(x)
	}
	if math.Abs(norm-1) > 1e-5 {
		t.Errorf("|v|² = %v, want 1", norm)
	}
	s := openaitest.New(t)
	s.SetDimension(3)
	if _, body := post(t, s, "/embeddings", `{"model":"e","input":"one word"}`); !strings.Contains(body, `"prompt_tokens":2`) || strings.Count(body, ",") < 2 {
		t.Errorf("body %s", body)
	}
}
