package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Default values used for zero fields of [Options].
const (
	DefaultDialTimeout           = 10 * time.Second
	DefaultResponseHeaderTimeout = 30 * time.Second
	DefaultTimeout               = 60 * time.Second
	DefaultMaxRedirects          = 5
)

// ErrBlocked is matched (with errors.Is) by the error returned when a
// connection is refused by the guard; the error is a [*BlockedError].
var ErrBlocked = errors.New("netguard: destination blocked")

// ErrTooManyRedirects is matched (with errors.Is) by the error returned by a
// [NewClient] client that stopped following redirects.
var ErrTooManyRedirects = errors.New("netguard: too many redirects")

// BlockedError describes a refused connection.
type BlockedError struct {
	// Host is the host name or IP literal requested.
	Host string
	// Addr is the address the connection was going to, "ip:port" (or the
	// requested "host:port" when refused before name resolution).
	Addr string
	// Reason says why the address is refused, e.g. "loopback address".
	Reason string
}

// Error implements error; the message names the address and the reason.
func (e *BlockedError) Error() string {
	return fmt.Sprintf("netguard: connection to %s (host %q) refused: %s, not in the outbound allow-list",
		e.Addr, e.Host, e.Reason)
}

// Unwrap returns [ErrBlocked].
func (e *BlockedError) Unwrap() error { return ErrBlocked }

// Options tunes [NewTransport] and [NewClient]; zero fields take defaults.
type Options struct {
	// DialTimeout bounds each connection attempt (default 10s).
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for response headers after the
	// request is written (default 30s).
	ResponseHeaderTimeout time.Duration
	// Timeout bounds a whole [NewClient] request, redirects and body read
	// included (default 60s).
	Timeout time.Duration
	// MaxRedirects is how many redirects a [NewClient] client follows
	// (default 5); negative means none: the 3xx response itself is returned.
	MaxRedirects int
}

// withDefaults fills zero fields.
func (o Options) withDefaults() Options {
	o.DialTimeout = orDefault(o.DialTimeout, DefaultDialTimeout)
	o.ResponseHeaderTimeout = orDefault(o.ResponseHeaderTimeout, DefaultResponseHeaderTimeout)
	o.Timeout = orDefault(o.Timeout, DefaultTimeout)
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	return o
}

// orDefault returns d when v is not positive.
func orDefault(v, d time.Duration) time.Duration {
	if v <= 0 {
		return d
	}
	return v
}

// NewTransport returns an HTTP transport whose connections are checked at
// dial time: every IP address actually connected to (after name resolution,
// for each redirect hop and each retry) is refused with a [*BlockedError] if
// [Blocked] reports it and allow does not allow it. Environment proxy settings
// are ignored on purpose: a proxy would connect on the guard's behalf.
func NewTransport(allow AllowList, opts Options) *http.Transport {
	opts = opts.withDefaults()
	g := guard{allow: allow, timeout: opts.DialTimeout}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            g.dialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    opts.DialTimeout,
		ResponseHeaderTimeout:  opts.ResponseHeaderTimeout,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConns:           100,
		MaxResponseHeaderBytes: 1 << 20,
	}
}

// NewClient returns an HTTP client using [NewTransport], with opts.Timeout as
// its total timeout and following at most opts.MaxRedirects redirects; each
// redirect hop is checked by the transport's dialer like the first request.
func NewClient(allow AllowList, opts Options) *http.Client {
	opts = opts.withDefaults()
	return &http.Client{
		Transport:     NewTransport(allow, opts),
		Timeout:       opts.Timeout,
		CheckRedirect: redirectPolicy(opts.MaxRedirects),
	}
}

// redirectPolicy stops after limit redirects (none when limit is negative).
func redirectPolicy(limit int) func(*http.Request, []*http.Request) error {
	return func(_ *http.Request, via []*http.Request) error {
		if limit < 0 {
			return http.ErrUseLastResponse
		}
		if len(via) > limit {
			return fmt.Errorf("%w: stopped after %d", ErrTooManyRedirects, limit)
		}
		return nil
	}
}

// guard dials connections, refusing blocked addresses.
type guard struct {
	allow   AllowList
	timeout time.Duration
}

// dialContext is the transport's DialContext.
func (g guard) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("netguard: dial %s: %w", addr, err)
	}
	if err := g.precheck(host, addr); err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: g.timeout, KeepAlive: 30 * time.Second, Control: g.control(host)}
	return d.DialContext(ctx, network, addr)
}

// precheck refuses, before any lookup or socket, blocked IP literals and
// numeric host names that some resolvers read as IPv4 addresses.
func (g guard) precheck(host, addr string) error {
	if ip, err := netip.ParseAddr(host); err == nil {
		return g.check(host, addr, ip)
	}
	if numericHost(host) {
		return &BlockedError{Host: host, Addr: addr, Reason: "ambiguous numeric host name"}
	}
	return nil
}

// control returns a net.Dialer Control func checking the resolved address of
// each connection attempt to host.
func (g guard) control(host string) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return &BlockedError{Host: host, Addr: address, Reason: "unparsable address"}
		}
		return g.check(host, address, ap.Addr())
	}
}

// check refuses ip unless it is not blocked or is allow-listed.
func (g guard) check(host, addr string, ip netip.Addr) error {
	why := blockReason(ip)
	if why == "" || g.allow.Allows(host, ip) {
		return nil
	}
	return &BlockedError{Host: host, Addr: addr, Reason: why + " address"}
}
