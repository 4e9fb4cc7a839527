package anthropictest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// Server is a fake Messages API. Its methods are safe for concurrent use.
type Server struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	script   []Reply
	requests []Request
	key      string // the x-api-key required; "" accepts any
	ids      int    // the last id handed out
}

// New starts a Server on loopback; it stops at the end of the test.
func New(t testing.TB) *Server {
	s := &Server{t: t}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
	return s
}

// URL is the base URL of the server, to use as the provider's BaseURL.
func (s *Server) URL() string { return s.srv.URL }

// Client is an HTTP client for the server whose connections close with it.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Push appends replies to the script: each request takes the first one
// left.
func (s *Server) Push(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, replies...)
}

// Pending is the number of replies of the script no request has taken yet.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.script)
}

// RequireKey makes the server answer 401 authentication_error to requests
// whose x-api-key is not key.
func (s *Server) RequireKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key = key
}

// Requests returns the requests received so far, in order, including the
// refused ones.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// serve answers one request.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		writeError(w, http.StatusNotFound, "Not found: "+r.Method+" "+r.URL.Path, "")
		return
	}
	raw, _ := io.ReadAll(r.Body)
	n := s.record(r.Header, raw)
	var req wireRequest
	if status, msg := s.check(r.Header, raw, &req); status != 0 {
		writeError(w, status, msg, "")
		return
	}
	reply, ok := s.next()
	if !ok {
		s.t.Errorf("anthropictest: request %d arrived but the script is empty: Push a Reply for every model call", n)
		writeError(w, http.StatusInternalServerError, "anthropictest: the script is empty", "")
		return
	}
	s.answer(w, r, req, reply)
}

// record keeps a request and returns its number, from 1.
func (s *Server) record(h http.Header, raw []byte) int {
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Header: h.Clone(), Body: body, Raw: raw})
	return len(s.requests)
}

// check returns the status and message refusing a request, or 0.
func (s *Server) check(h http.Header, raw []byte, req *wireRequest) (int, string) {
	s.mu.Lock()
	key := s.key
	s.mu.Unlock()
	switch {
	case key != "" && h.Get("x-api-key") != key:
		return http.StatusUnauthorized, "invalid x-api-key"
	case h.Get("anthropic-version") == "":
		return http.StatusBadRequest, "anthropic-version: header is required"
	case json.Unmarshal(raw, req) != nil:
		return http.StatusBadRequest, "The request body is not valid JSON."
	}
	if msg := validate(req); msg != "" {
		return http.StatusBadRequest, msg
	}
	return 0, ""
}

// next takes the first reply of the script.
func (s *Server) next() (Reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.script) == 0 {
		return Reply{}, false
	}
	r := s.script[0]
	s.script = s.script[1:]
	return r, true
}

// id hands out a new id with prefix.
func (s *Server) id(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids++
	return prefix + strconv.Itoa(s.ids)
}
