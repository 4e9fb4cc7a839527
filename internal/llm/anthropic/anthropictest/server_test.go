package anthropictest

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/llm"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recorder keeps the errors a Server reports instead of failing the test.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// post sends body to s with the headers the API needs and returns the
// status and the answer.
func post(t *testing.T, s *Server, body string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+"/v1/messages", strings.NewReader(body))
	req.Header.Set("anthropic-version", "2023-06-01")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const hello = `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}`

func TestEmptyScriptFailsTheTest(t *testing.T) {
	rec := &recorder{TB: t}
	s := New(rec)
	status, body := post(t, s, hello)
	if status != http.StatusInternalServerError || !strings.Contains(body, "api_error") {
		t.Errorf("got %d %s", status, body)
	}
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "request 1 arrived but the script is empty") {
		t.Errorf("reported %q", rec.errs)
	}
}

func TestPlainAnswer(t *testing.T) {
	s := New(t)
	s.Push(Reply{Content: "Hello", ToolCalls: []llm.ToolCall{{Name: "now"}}, Usage: llm.Usage{InputTokens: 30, OutputTokens: 4, CachedTokens: 20}, CacheWriteTokens: 3})
	status, body := post(t, s, hello)
	want := Canonical(`{"id":"msg_test_1","type":"message","role":"assistant","model":"m",
		"content":[{"type":"text","text":"Hello"},{"type":"tool_use","id":"toolu_test_2","name":"now","input":{}}],
		"stop_reason":"tool_use","stop_sequence":null,
		"usage":{"input_tokens":7,"cache_creation_input_tokens":3,"cache_read_input_tokens":20,"output_tokens":4}}`)
	if status != http.StatusOK || Canonical(body) != want {
		t.Errorf("got %d %s\nwant %s", status, Canonical(body), want)
	}
	if s.Pending() != 0 || len(s.Requests()) != 1 || s.Requests()[0].Field("model") != `"m"` {
		t.Errorf("pending %d, requests %+v", s.Pending(), s.Requests())
	}
}

func TestStreamedAnswer(t *testing.T) {
	s := New(t)
	s.Push(Reply{Content: "Hello", Chunks: 2, ToolCalls: []llm.ToolCall{{ID: "t", Name: "now", Arguments: []byte(`{"a": 1}`)}}, Usage: llm.Usage{OutputTokens: 9}})
	status, body := post(t, s, `{"model":"m","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"Hi"}]}`)
	var names []string
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			names = append(names, name)
		}
	}
	want := "message_start ping content_block_start content_block_delta content_block_delta content_block_stop " +
		"content_block_start content_block_delta content_block_delta content_block_delta content_block_stop message_delta message_stop"
	if status != http.StatusOK || strings.Join(names, " ") != want {
		t.Errorf("got %d, events %s", status, names)
	}
	for _, piece := range []string{`"text":"He"`, `"text":"llo"`, `"partial_json":"{\"a"`, `"partial_json":"\":1}"`, `"usage":{"output_tokens":9}`} {
		if !strings.Contains(body, piece) {
			t.Errorf("stream lacks %s:\n%s", piece, body)
		}
	}
}

func TestRefusals(t *testing.T) {
	toolUse := `{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"n","input":{}}]}`
	for _, tc := range []struct {
		name, body, want string
		status           int
	}{
		{"not json", `{`, "not valid JSON", 400},
		{"no model", `{"max_tokens":1,"messages":[{"role":"user","content":"x"}]}`, "model", 400},
		{"no max_tokens", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, "max_tokens", 400},
		{"no messages", `{"model":"m","max_tokens":1,"messages":[]}`, "at least one message", 400},
		{"same role twice", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"},{"role":"user","content":"y"}]}`, "alternate", 400},
		{"empty text", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text","text":""}]}]}`, "non-empty", 400},
		{"unanswered tool", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"},` + toolUse + `,{"role":"user","content":"y"}]}`, "without tool_result", 400},
		{"stray result", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t9"}]}]}`, "unexpected tool_use_id", 400},
		{"result after text", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"},` + toolUse + `,{"role":"user","content":[{"type":"text","text":"y"},{"type":"tool_result","tool_use_id":"t1"}]}]}`, "must come before", 400},
	} {
		s := New(t)
		if status, body := post(t, s, tc.body); status != tc.status || !strings.Contains(body, tc.want) || !strings.Contains(body, "invalid_request_error") {
			t.Errorf("%s: got %d %s", tc.name, status, body)
		}
	}
}

func TestHeaders(t *testing.T) {
	s := New(t)
	s.RequireKey("sk-ant-test")
	if status, body := post(t, s, hello, "x-api-key", "wrong"); status != http.StatusUnauthorized || !strings.Contains(body, "authentication_error") {
		t.Errorf("wrong key: %d %s", status, body)
	}
	if status, body := post(t, s, hello, "x-api-key", "sk-ant-test", "anthropic-version", ""); status != http.StatusBadRequest || !strings.Contains(body, "anthropic-version") {
		t.Errorf("no version: %d %s", status, body)
	}
	s.Push(Reply{Status: 529, RetryAfter: "3"})
	if status, body := post(t, s, hello, "x-api-key", "sk-ant-test"); status != 529 || !strings.Contains(body, `"overloaded_error"`) {
		t.Errorf("scripted 529: %d %s", status, body)
	}
	s.Push(Reply{StreamError: "overloaded_error"})
	if status, body := post(t, s, hello, "x-api-key", "sk-ant-test"); status != 529 || !strings.Contains(body, `"Overloaded"`) {
		t.Errorf("stream error in a plain answer: %d %s", status, body)
	}
	if len(s.Requests()) != 4 || s.Requests()[0].Header.Get("x-api-key") != "wrong" {
		t.Errorf("requests %+v", s.Requests())
	}
}
