package mcp

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gathering/gathering/internal/startstop"
	"github.com/gathering/gathering/internal/tool"
)

// Defaults for the zero fields of Options.
const (
	DefaultTimeout        = 60 * time.Second
	DefaultConnectTimeout = 30 * time.Second
	DefaultKeepAlive      = 30 * time.Second
	DefaultMinBackoff     = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
)

// Options tunes a Client; zero fields take the defaults above.
type Options struct {
	// Logger receives connections, losses and skipped tools, and the
	// standard error of command servers; nil discards them.
	Logger *slog.Logger
	// HTTPClient carries the requests to URL servers; nil means
	// http.DefaultClient. URL servers are the operator's own configuration,
	// so the default has no guard against internal addresses; pass a
	// netguard client to have one. It must not set Timeout: that would cut
	// the session's long-lived event stream (each call is bounded by the
	// tool's timeout instead).
	HTTPClient *http.Client
	// Timeout bounds one tool call (default 60 s).
	Timeout time.Duration
	// ConnectTimeout bounds connecting to a server and listing its tools
	// (default 30 s).
	ConnectTimeout time.Duration
	// KeepAlive is how often the session is pinged, where the negotiated
	// protocol version has pings; a failed ping ends the session (default
	// 30 s). It notices the loss of an HTTP server without an event stream.
	KeepAlive time.Duration
	// MinBackoff and MaxBackoff bound the wait before reconnecting, which
	// doubles from min to max, ±20 % (defaults 500 ms and 30 s). A session
	// that lasted at least MaxBackoff starts the sequence over.
	MinBackoff, MaxBackoff time.Duration
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	o.Timeout = cmp.Or(o.Timeout, DefaultTimeout)
	o.ConnectTimeout = cmp.Or(o.ConnectTimeout, DefaultConnectTimeout)
	o.KeepAlive = cmp.Or(o.KeepAlive, DefaultKeepAlive)
	o.MinBackoff = cmp.Or(o.MinBackoff, DefaultMinBackoff)
	o.MaxBackoff = max(cmp.Or(o.MaxBackoff, DefaultMaxBackoff), o.MinBackoff)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Client keeps a session to each configured server and the servers' tools
// in a registry. It is a startstop.Service: Start launches one goroutine
// per server, Stop ends them, closing the sessions and stopping the
// programs.
type Client struct {
	servers []*server
}

var _ startstop.Service = (*Client)(nil)

// New returns a Client for servers (as ParseServers returns them) that
// registers their tools in reg.
func New(servers []Server, reg *tool.Registry, opts Options) *Client {
	opts = opts.withDefaults()
	c := &Client{}
	for _, cfg := range servers {
		c.servers = append(c.servers, newServer(cfg, reg, opts))
	}
	return c
}

// Start launches one goroutine per server, which connects, registers the
// tools and keeps the session up. It returns at once: tools appear as their
// servers answer. Starting a running Client is startstop.ErrRunning.
func (c *Client) Start(ctx context.Context) error {
	for _, s := range c.servers {
		if err := s.loop.Start(ctx, s.run); err != nil {
			return err
		}
	}
	return nil
}

// Stop ends every server's goroutine, closing its session, and waits for
// them, giving up when ctx ends. A program has its standard input closed,
// then gets SIGTERM after 2 s and SIGKILL 2 s later. The tools stay
// registered, unavailable.
func (c *Client) Stop(ctx context.Context) error {
	errs := make([]error, len(c.servers))
	var wg sync.WaitGroup
	for i, s := range c.servers {
		wg.Go(func() { errs[i] = s.loop.Stop(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ServerStatus describes one server's session for the API.
type ServerStatus struct {
	Name      string `json:"name"`
	Connected bool   `json:"connected"`
	// Tools counts the server's tools that are registered and offered now.
	Tools int `json:"tools"`
	// LastError is why the last session ended or the last attempt failed;
	// empty while connected.
	LastError string `json:"last_error,omitempty"`
}

// Status returns the state of every server, in configuration order.
func (c *Client) Status() []ServerStatus {
	out := make([]ServerStatus, len(c.servers))
	for i, s := range c.servers {
		out[i] = s.status()
	}
	return out
}
