package openai

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/netguard"
)

// Defaults used for zero fields of [Config].
const (
	DefaultName    = "openai"
	DefaultBaseURL = "https://api.openai.com/v1"
	DefaultTimeout = 5 * time.Minute
)

// maxBody bounds a non-streaming response body (embeddings of many inputs
// are the large ones).
const maxBody = 64 << 20

// Config configures the client [New] returns; zero fields take defaults.
type Config struct {
	// Name is the provider's name in errors and [llm.Provider.Name]
	// (default "openai").
	Name string
	// BaseURL is the API root, the part before /chat/completions (default
	// https://api.openai.com/v1; Ollama: http://127.0.0.1:11434/v1).
	BaseURL string
	// APIKey is sent as a bearer token; empty sends no Authorization header.
	APIKey string
	// HTTPClient sends the requests (default: a client with no timeout of
	// its own; a total timeout on it would also cut long streams).
	HTTPClient *http.Client
	// Timeout bounds a Chat or Embed call as a whole and, while streaming,
	// each wait for the next piece of the stream, so a stalled connection
	// fails without cutting a long answer that keeps coming (default 5 min).
	Timeout time.Duration
}

// client implements llm.Provider over the Chat Completions wire format.
type client struct {
	name    string
	base    string
	key     string
	http    *http.Client
	timeout time.Duration
}

// New returns a provider speaking the OpenAI-compatible Chat Completions API
// as configured by c.
func New(c Config) llm.Provider {
	return &client{
		name:    cmp.Or(c.Name, DefaultName),
		base:    strings.TrimRight(cmp.Or(c.BaseURL, DefaultBaseURL), "/"),
		key:     c.APIKey,
		http:    cmp.Or(c.HTTPClient, &http.Client{}),
		timeout: cmp.Or(max(c.Timeout, 0), DefaultTimeout),
	}
}

// Name implements llm.Provider.
func (c *client) Name() string { return c.name }

// post sends body as JSON to path and returns a 2xx response; any other
// answer becomes an *llm.Error.
func (c *client) post(ctx context.Context, path string, body any) (*http.Response, error) {
	buf, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("%s: encode the request: %w", c.name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(buf))
	if err != nil {
		return nil, fmt.Errorf("%s: build the request: %w", c.name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.networkError(ctx, "the request failed", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, c.statusError(resp)
	}
	return resp, nil
}

// decode reads a whole JSON response body into v.
func (c *client) decode(ctx context.Context, resp *http.Response, v any) error {
	data, err := netguard.ReadLimited(resp.Body, maxBody)
	if err != nil {
		return c.networkError(ctx, "reading the response failed", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return c.malformed("the response is not valid JSON", err)
	}
	return nil
}
