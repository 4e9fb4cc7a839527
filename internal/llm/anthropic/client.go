package anthropic

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
)

// Defaults of Config and Request.
const (
	DefaultName      = "anthropic"
	DefaultBaseURL   = "https://api.anthropic.com"
	DefaultVersion   = "2023-06-01"
	DefaultTimeout   = 10 * time.Minute
	DefaultMaxTokens = 4096
)

// Config configures one Anthropic endpoint.
type Config struct {
	// Name is the provider's configured name (default "anthropic").
	Name string
	// BaseURL is the root of the API, without /v1 (default
	// https://api.anthropic.com).
	BaseURL string
	// APIKey is sent as x-api-key; it never appears in errors.
	APIKey string
	// HTTPClient sends the requests (default http.DefaultClient).
	HTTPClient *http.Client
	// Timeout bounds a Chat call as a whole, and in Stream the wait for the
	// answer and every silence between two of its pieces, so that a long
	// answer that keeps coming is not cut (default 10 minutes). The
	// caller's context bounds both as well.
	Timeout time.Duration
	// Version is the anthropic-version header (default "2023-06-01").
	Version string
}

// client is the llm.Provider New returns.
type client struct {
	name    string
	url     string
	key     string
	version string
	http    *http.Client
	timeout time.Duration
}

// New returns the provider cfg describes.
func New(cfg Config) llm.Provider {
	c := &client{
		name:    cmp.Or(cfg.Name, DefaultName),
		url:     strings.TrimRight(cmp.Or(cfg.BaseURL, DefaultBaseURL), "/") + "/v1/messages",
		key:     cfg.APIKey,
		version: cmp.Or(cfg.Version, DefaultVersion),
		http:    cfg.HTTPClient,
		timeout: cmp.Or(cfg.Timeout, DefaultTimeout),
	}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	return c
}

// Name implements llm.Provider.
func (c *client) Name() string { return c.name }

// Chat implements llm.Provider.
func (c *client) Chat(ctx context.Context, req llm.Request) (llm.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.post(ctx, req, false)
	if err != nil {
		return llm.Response{}, err
	}
	defer resp.Body.Close()
	var msg wireResponse
	if err := json.NewDecoder(resp.Body).Decode(&msg); err != nil {
		return llm.Response{}, c.netError(ctx, "malformed response", err)
	}
	drain(resp.Body)
	return msg.response(), nil
}

// Stream implements llm.Provider.
func (c *client) Stream(ctx context.Context, req llm.Request, emit func(llm.Delta) error) (llm.Response, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := fmt.Errorf("the stream stalled: nothing received for %v", c.timeout)
	idle := time.AfterFunc(c.timeout, func() { cancel(stalled) })
	defer idle.Stop()
	resp, err := c.post(ctx, req, true)
	if err != nil {
		return llm.Response{}, err
	}
	defer resp.Body.Close()
	s := &stream{c: c, ctx: ctx, emit: emit, tools: map[int]*toolBlock{}}
	if err := s.read(idleReader{resp.Body, idle, c.timeout}); err != nil {
		return llm.Response{}, err
	}
	drain(resp.Body)
	return s.response(), nil
}

// Embed implements llm.Provider: Anthropic has no embeddings endpoint.
func (c *client) Embed(context.Context, string, []string) ([][]float32, llm.Usage, error) {
	return nil, llm.Usage{}, gathering.Errorf(gathering.EUNSUPPORTED,
		"The provider %s (Anthropic) offers no embeddings; configure an OpenAI-compatible embedder or use the local one.", c.name)
}

// post sends req and returns the 2xx answer; any other answer is an
// *llm.Error.
func (c *client) post(ctx context.Context, req llm.Request, stream bool) (*http.Response, error) {
	body, err := encodeRequest(req, stream)
	if err != nil {
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, &gathering.Error{Code: gathering.EINVALID, Message: "The provider " + c.name + " has an invalid base URL.", Err: err}
	}
	hreq.Header.Set("x-api-key", c.key)
	hreq.Header.Set("anthropic-version", c.version)
	hreq.Header.Set("content-type", "application/json")
	if stream {
		hreq.Header.Set("accept", "text/event-stream")
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, c.netError(ctx, "request failed", err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, c.statusError(resp)
	}
	return resp, nil
}

// netError is a failure with no HTTP status: the network, or an answer
// that broke off or cannot be read. When ctx has ended, that is the
// failure, and its cause the error.
func (c *client) netError(ctx context.Context, msg string, err error) *llm.Error {
	if ctx.Err() != nil {
		msg, err = "the call ended before the answer was complete", context.Cause(ctx)
	}
	return &llm.Error{Provider: c.name, Message: msg, Err: err}
}

// redact replaces the API key in s.
func (c *client) redact(s string) string {
	if c.key == "" {
		return s
	}
	return strings.ReplaceAll(s, c.key, "[REDACTED]")
}

// drain reads a small remainder of body, so that its connection can be
// reused.
func drain(body io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 4<<10))
}

// idleReader resets a timer each time it reads something.
type idleReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

// Read implements io.Reader.
func (r idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.t.Reset(r.d)
	}
	return n, err
}
