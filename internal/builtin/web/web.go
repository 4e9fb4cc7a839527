package web

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/netguard"
	"github.com/gathering/gathering/internal/tool"
)

// Defaults used for zero fields of [Options].
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxResponse  = 1 << 20
	DefaultMaxRedirects = netguard.DefaultMaxRedirects
)

// MaxTimeoutSeconds is the largest timeout_seconds http.request accepts.
const MaxTimeoutSeconds = 120

// toolGrace is how much longer than its longest request a tool may run.
const toolGrace = 5 * time.Second

// Options configures the web skills. The zero value is usable: it allows no
// internal destination and takes the defaults.
type Options struct {
	// AllowList exempts destinations from the SSRF guard; GatheRing reads
	// it from GATHERING_OUTBOUND_ALLOWLIST.
	AllowList netguard.AllowList
	// Timeout bounds an http.request call without timeout_seconds and every
	// notify.webhook delivery (default 30s).
	Timeout time.Duration
	// MaxResponse is how many bytes of a response body http.request
	// returns (default 1 MiB); longer bodies are truncated.
	MaxResponse int64
	// MaxRedirects is how many redirects http.request follows (default 5);
	// negative means none: the 3xx response itself is returned.
	MaxRedirects int
}

// withDefaults fills zero or negative fields, MaxRedirects excepted.
func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxResponse <= 0 {
		o.MaxResponse = DefaultMaxResponse
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	return o
}

// longest is the longest a single http.request may take.
func (o Options) longest() time.Duration {
	return max(o.Timeout, MaxTimeoutSeconds*time.Second)
}

// Tools returns the http.request and notify.webhook tools, sharing one
// guarded client.
func Tools(o Options) []tool.Tool {
	s := newSkills(o.withDefaults())
	return []tool.Tool{s.requestTool(), s.webhookTool()}
}

// skills holds what both tools share.
type skills struct {
	opts Options
	// client follows redirects; noRedirect shares its guarded transport
	// but returns a 3xx response as is.
	client, noRedirect *http.Client
}

// newSkills builds the guarded client. Request deadlines come from each
// call's context, so the client's own limits are the longest allowed.
func newSkills(o Options) *skills {
	c := netguard.NewClient(o.AllowList, netguard.Options{
		ResponseHeaderTimeout: o.longest(),
		Timeout:               o.longest(),
		MaxRedirects:          o.MaxRedirects,
	})
	nr := *c
	nr.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &skills{opts: o, client: c, noRedirect: &nr}
}

// decode reads validated input into v.
func decode(raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		e := gathering.Errorf(gathering.EMALFORMED, "The tool input cannot be read.")
		e.Err = err
		return e
	}
	return nil
}

// isNull reports whether a raw JSON value is absent or null.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// headerIdempotencyKey carries the caller's idempotency key.
const headerIdempotencyKey = "Idempotency-Key"

// setIdempotencyKey sets the Idempotency-Key header from the context's key
// (tool.WithIdempotencyKey) unless the input already set one.
func setIdempotencyKey(ctx context.Context, h http.Header) {
	if key := tool.IdempotencyKey(ctx); key != "" && h.Get(headerIdempotencyKey) == "" {
		h.Set(headerIdempotencyKey, key)
	}
}
