package netguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// target is a loopback test server counting the requests it receives.
type target struct {
	*httptest.Server
	hits atomic.Int64
	port string
}

// newTarget starts a loopback server answering "ok", or running h when set.
func newTarget(t *testing.T, h http.HandlerFunc) *target {
	t.Helper()
	tg := &target{}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.hits.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(tg.Close)
	u, err := url.Parse(tg.URL)
	if err != nil {
		t.Fatal(err)
	}
	tg.port = u.Port()
	return tg
}

// client returns a guarded client allowing allow, with short timeouts.
func client(t *testing.T, allow string) *http.Client {
	t.Helper()
	a, err := ParseAllowList(allow)
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(a, Options{DialTimeout: 2 * time.Second, Timeout: 5 * time.Second})
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// get fetches u and returns the body.
func get(c *http.Client, u string) (string, error) {
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := ReadLimited(resp.Body, 1<<20)
	return string(b), err
}

// TestSSRFCorpus checks that every corpus URL is refused without an
// allow-list and that the loopback target is never reached. Only loopback
// ports are dialled; the other literals are refused before any socket.
func TestSSRFCorpus(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, nil)
	redirector := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:"+tg.port+"/", http.StatusFound)
	})
	p := tg.port
	tests := []struct {
		url     string
		anyErr  bool // refusal reason may come from the URL parser or resolver
		blocked bool // the guard itself must refuse
	}{
		{url: "http://127.0.0.1:" + p + "/", blocked: true},
		{url: "http://localhost:" + p + "/", blocked: true},
		{url: "http://LocalHost:" + p + "/", blocked: true},
		{url: "http://[::1]:" + p + "/", blocked: true},
		{url: "http://0.0.0.0:" + p + "/", blocked: true},
		{url: "http://10.0.0.1/", blocked: true},
		{url: "http://172.16.0.1/", blocked: true},
		{url: "http://192.168.1.1/", blocked: true},
		{url: "http://169.254.169.254/latest/meta-data/", blocked: true},
		{url: "http://[fd00:ec2::254]/", blocked: true},
		{url: "http://100.64.0.1/", blocked: true},
		{url: "http://[::ffff:127.0.0.1]:" + p + "/", blocked: true},
		{url: "http://[64:ff9b::7f00:1]:" + p + "/", blocked: true},
		{url: "http://[2002:7f00:1::1]:" + p + "/", blocked: true},
		{url: "http://224.0.0.1/", blocked: true},
		{url: "http://255.255.255.255/", blocked: true},
		{url: "http://2130706433:" + p + "/", anyErr: true},
		{url: "http://0x7f.1:" + p + "/", anyErr: true},
		{url: "http://127.1:" + p + "/", anyErr: true},
		{url: "http://0177.0.0.1:" + p + "/", anyErr: true},
		{url: redirector.URL + "/", blocked: true}, // redirector itself is loopback
	}
	c := client(t, "")
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			_, err := get(c, tt.url)
			if err == nil {
				t.Fatalf("GET %s succeeded, want refusal", tt.url)
			}
			if !tt.anyErr && !errors.Is(err, ErrBlocked) {
				t.Fatalf("GET %s: %v, want ErrBlocked", tt.url, err)
			}
		})
	}
	t.Cleanup(func() {
		if n := tg.hits.Load() + redirector.hits.Load(); n != 0 {
			t.Errorf("loopback servers reached %d times", n)
		}
	})
}

// TestRedirectToBlocked follows a redirect from an allow-listed server to
// loopback addresses that are not allow-listed.
func TestRedirectToBlocked(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, nil)
	for _, loc := range []string{"http://127.0.0.1:" + tg.port + "/", "http://[::1]:" + tg.port + "/",
		"http://0.0.0.0:" + tg.port + "/", "http://169.254.169.254/", "http://10.0.0.1/"} {
		t.Run(loc, func(t *testing.T) {
			t.Parallel()
			from := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, loc, http.StatusFound)
			})
			// Only the name "localhost" is allowed, so the redirector is
			// reachable but loopback IP literals are not.
			_, err := get(client(t, "localhost"), "http://localhost:"+from.port+"/")
			if !errors.Is(err, ErrBlocked) {
				t.Fatalf("redirect to %s: err = %v, want ErrBlocked", loc, err)
			}
			if from.hits.Load() != 1 {
				t.Errorf("redirector hits = %d, want 1", from.hits.Load())
			}
		})
	}
	t.Cleanup(func() {
		if n := tg.hits.Load(); n != 0 {
			t.Errorf("redirect target reached %d times", n)
		}
	})
}

// TestAllowListed reaches the loopback server only when allow-listed.
func TestAllowListed(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, nil)
	tests := []struct {
		allow, url string
		ok         bool
	}{
		{"127.0.0.0/8", tg.URL, true},
		{"127.0.0.1", tg.URL, true},
		{"::ffff:127.0.0.1", tg.URL, true},
		{"localhost", "http://localhost:" + tg.port + "/", true},
		{"127.0.0.0/8", "http://localhost:" + tg.port + "/", true},
		{"", tg.URL, false},
		{"localhost", tg.URL, false},
		{"127.0.0.2", tg.URL, false},
		{"10.0.0.0/8, 192.168.0.0/16", tg.URL, false},
		{"example.com", "http://localhost:" + tg.port + "/", false},
		{"127.0.0.0/8", "http://2130706433:" + tg.port + "/", false},
	}
	for _, tt := range tests {
		t.Run(tt.allow+" "+tt.url, func(t *testing.T) {
			t.Parallel()
			body, err := get(client(t, tt.allow), tt.url)
			if tt.ok && (err != nil || body != "ok") {
				t.Fatalf("GET %s with allow %q: %q, %v; want ok", tt.url, tt.allow, body, err)
			}
			if !tt.ok && err == nil {
				t.Fatalf("GET %s with allow %q succeeded, want refusal", tt.url, tt.allow)
			}
		})
	}
}

// TestBlockedErrorMessage checks that the error names the address.
func TestBlockedErrorMessage(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, nil)
	_, err := get(client(t, ""), "http://localhost:"+tg.port+"/")
	var be *BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want *BlockedError", err)
	}
	want := "127.0.0.1:" + tg.port
	if be.Addr != want || be.Host != "localhost" || !strings.Contains(err.Error(), want) ||
		!strings.Contains(err.Error(), "loopback") {
		t.Errorf("err = %v (%+v), want address %s, host localhost, loopback", err, be, want)
	}
}

// TestControlChecksResolvedAddress exercises the dial-time check alone: the
// dialer reports the resolved IP whatever name was requested (DNS rebinding).
func TestControlChecksResolvedAddress(t *testing.T) {
	t.Parallel()
	allow, err := ParseAllowList("svc.internal, 192.168.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	g := guard{allow: allow}
	tests := []struct {
		host, addr string
		blocked    bool
	}{
		{"rebind.example", "127.0.0.1:80", true},
		{"rebind.example", "[::1]:443", true},
		{"rebind.example", "169.254.169.254:80", true},
		{"rebind.example", "[::ffff:10.0.0.1]:80", true},
		{"rebind.example", "garbage", true},
		{"rebind.example", "93.184.216.34:443", false},
		{"svc.internal", "10.0.0.5:80", false},
		{"rebind.example", "192.168.1.1:80", false},
	}
	for _, tt := range tests {
		t.Run(tt.host+"/"+tt.addr, func(t *testing.T) {
			t.Parallel()
			err := g.control(tt.host)("tcp", tt.addr, nil)
			if errors.Is(err, ErrBlocked) != tt.blocked {
				t.Errorf("control(%s, %s) = %v, want blocked %v", tt.host, tt.addr, err, tt.blocked)
			}
		})
	}
}

// TestRedirectLimit follows at most MaxRedirects redirects, each re-dialled.
func TestRedirectLimit(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if n > 0 {
			http.Redirect(w, r, fmt.Sprintf("/%d", n-1), http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	})
	c := client(t, "127.0.0.0/8")
	if body, err := get(c, tg.URL+"/5"); err != nil || body != "ok" {
		t.Fatalf("5 redirects: %q, %v", body, err)
	}
	if _, err := get(c, tg.URL+"/6"); !errors.Is(err, ErrTooManyRedirects) {
		t.Fatalf("6 redirects: %v, want ErrTooManyRedirects", err)
	}
	a, _ := ParseAllowList("127.0.0.1")
	resp, err := NewClient(a, Options{MaxRedirects: -1}).Get(tg.URL + "/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("MaxRedirects -1: status %d, want 302", resp.StatusCode)
	}
}

// TestResponseHeaderTimeout gives up on a server that never answers.
func TestResponseHeaderTimeout(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	})
	a, _ := ParseAllowList("127.0.0.1")
	c := &http.Client{Transport: NewTransport(a, Options{ResponseHeaderTimeout: 50 * time.Millisecond})}
	start := time.Now()
	if _, err := c.Get(tg.URL); err == nil {
		t.Fatal("want timeout error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timed out after %v", d)
	}
}

// TestDefaults checks the transport and client defaults.
func TestDefaults(t *testing.T) {
	t.Parallel()
	tr := NewTransport(AllowList{}, Options{})
	if tr.Proxy != nil || tr.ResponseHeaderTimeout != DefaultResponseHeaderTimeout || tr.DialContext == nil {
		t.Errorf("transport defaults: proxy set %v, header timeout %v", tr.Proxy != nil, tr.ResponseHeaderTimeout)
	}
	c := NewClient(AllowList{}, Options{})
	if c.Timeout != DefaultTimeout || c.CheckRedirect == nil {
		t.Errorf("client timeout %v", c.Timeout)
	}
	via := make([]*http.Request, DefaultMaxRedirects+1)
	if err := c.CheckRedirect(nil, via); !errors.Is(err, ErrTooManyRedirects) {
		t.Errorf("redirect %d: %v", len(via), err)
	}
	if err := c.CheckRedirect(nil, via[:DefaultMaxRedirects]); err != nil {
		t.Errorf("redirect %d: %v", DefaultMaxRedirects, err)
	}
}

// TestDialContextPrecheck refuses literals before dialling, even with a done context.
func TestDialContextPrecheck(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g := guard{allow: AllowList{}, timeout: time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := g.dialContext(ctx, "tcp", ln.Addr().String()); !errors.Is(err, ErrBlocked) {
		t.Errorf("blocked literal: %v", err)
	}
	if _, err := g.dialContext(ctx, "tcp", "no-port"); err == nil {
		t.Error("missing port accepted")
	}
}
