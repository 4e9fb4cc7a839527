package openaitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultDimension is the length of the vectors /embeddings answers unless
// [Server.SetDimension] changes it.
const DefaultDimension = 8

// Request is one recorded request.
type Request struct {
	Method string
	Path   string // e.g. /v1/chat/completions
	Header http.Header
	Body   map[string]any // the decoded JSON body; nil when it is not JSON
	Raw    []byte         // the body as sent
	Time   time.Time      // when it arrived
}

// Server is a fake OpenAI-compatible API. Its methods are safe for
// concurrent use.
type Server struct {
	// URL is the API's base URL (ending in /v1), for the client's BaseURL.
	URL string

	t    testing.TB
	srv  *httptest.Server
	done chan struct{} // closed when the test ends: stalls give up

	mu       sync.Mutex
	script   []Reply
	fallback *Reply
	key      string
	dim      int
	requests []Request
}

// New starts a server on loopback; it is closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{t: t, dim: DefaultDimension, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.chat)
	mux.HandleFunc("POST /v1/embeddings", s.embeddings)
	s.srv = httptest.NewServer(s.record(s.authorize(mux)))
	s.URL = s.srv.URL + "/v1"
	t.Cleanup(s.close)
	return s
}

// Push appends replies to the script; chat requests take them in order.
func (s *Server) Push(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, replies...)
}

// Pending returns how many pushed replies no request has taken yet.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.script)
}

// SetFallback makes chat requests that find the script empty get r instead
// of failing the test.
func (s *Server) SetFallback(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = &r
}

// RequireKey makes every request without "Authorization: Bearer key" fail
// with 401. Like some real providers, the error message echoes the key it
// received, so clients can be checked for keeping it out of their errors.
func (s *Server) RequireKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key = key
}

// SetDimension sets the length of the vectors /embeddings answers.
func (s *Server) SetDimension(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dim = n
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// close ends stalls and stops the server.
func (s *Server) close() {
	close(s.done)
	s.srv.Close()
}

// next takes the reply for a chat request, or fails the test.
func (s *Server) next(r *http.Request) (Reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.script) > 0 {
		reply := s.script[0]
		s.script = s.script[1:]
		return reply, true
	}
	if s.fallback != nil {
		return *s.fallback, true
	}
	s.t.Errorf("openaitest: %s %s (request %d) found the script empty; Push a Reply or SetFallback",
		r.Method, r.URL.Path, len(s.requests))
	return Reply{}, false
}

// record keeps a copy of every request before handling it.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
		r.Body = io.NopCloser(bytes.NewReader(raw))
		var body map[string]any
		if json.Unmarshal(raw, &body) != nil {
			body = nil
		}
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Raw: raw, Time: time.Now()})
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// authorize answers 401 when a key is required and not given.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		key := s.key
		s.mu.Unlock()
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if key != "" && got != key {
			writeError(w, Reply{Status: http.StatusUnauthorized, Error: "Incorrect API key provided: " + got})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// stall waits d, or until the client or the test goes away; it reports
// whether to go on answering.
func (s *Server) stall(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
}
