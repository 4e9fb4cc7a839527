package ratelimit

import (
	"io"
	"net"
	"sync"
	"testing"
)

// proxy is a TCP proxy to a target that a test can cut (connections closed,
// new ones refused), make hang (connections accepted, nothing forwarded) and
// restore.
type proxy struct {
	tb     testing.TB
	target string
	addr   string
	wg     sync.WaitGroup

	mu    sync.Mutex
	ln    net.Listener // nil while cut
	conns map[net.Conn]struct{}
	hang  bool
}

// newProxy starts a proxy to target on a free loopback port; it is closed
// at cleanup.
func newProxy(tb testing.TB, target string) *proxy {
	p := &proxy{tb: tb, target: target, conns: make(map[net.Conn]struct{})}
	p.listen("127.0.0.1:0")
	p.addr = p.ln.Addr().String()
	tb.Cleanup(p.close)
	return p
}

// listen opens the listener on addr and serves it.
func (p *proxy) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.tb.Fatalf("proxy listen %s: %v", addr, err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() { p.serve(ln) })
}

// serve accepts connections until ln is closed.
func (p *proxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			c.Close()
			continue
		}
		p.mu.Lock()
		hang := p.hang
		p.mu.Unlock()
		if hang {
			p.wg.Go(func() { io.Copy(io.Discard, c) })
			continue
		}
		p.wg.Go(func() { p.forward(c) })
	}
}

// forward pipes c to a new connection to the target, both ways.
func (p *proxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(s) {
		c.Close()
		return
	}
	p.wg.Go(func() { pipe(s, c) })
	pipe(c, s)
}

// pipe copies from src to dst, then closes both.
func pipe(dst, src net.Conn) {
	io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// track records c for closing; false when the proxy is cut.
func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// dropConns closes every open connection. The caller holds p.mu.
func (p *proxy) dropConns() {
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Cut closes every connection and the listener: new connections are refused.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	p.dropConns()
}

// Hang closes every connection; new ones are accepted but never answered.
func (p *proxy) Hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hang = true
	p.dropConns()
}

// Restore forwards again, on the same address.
func (p *proxy) Restore() {
	p.mu.Lock()
	p.hang = false
	p.dropConns()
	cut := p.ln == nil
	p.mu.Unlock()
	if cut {
		p.listen(p.addr)
	}
}

// close cuts the proxy and waits for all its goroutines.
func (p *proxy) close() {
	p.Cut()
	p.wg.Wait()
}
