package httpapi

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/logging"
)

// recorder remembers what a handler wrote, for logs, metrics and the panic
// handler. Unwrap lets http.ResponseController reach the real writer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// requestID adopts a well-formed incoming X-Request-ID or makes a new one,
// puts it in the context (so every log line carries it) and echoes it.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(gathering.WithRequestID(r.Context(), id)))
	})
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// observe writes the access log line and the request metrics once the
// request is done. It runs inside the router, so the route pattern is known.
func (a *API) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		a.metrics.inFlight.Inc()
		rec := &recorder{ResponseWriter: w}
		state := &requestState{}
		r = r.WithContext(context.WithValue(r.Context(), requestStateKey{}, state))
		defer func() {
			a.metrics.inFlight.Dec()
			route := chi.RouteContext(r.Context()).RoutePattern()
			if route == "" {
				route = "unmatched"
			}
			status := cmp.Or(rec.status, http.StatusOK) // nothing written means 200
			elapsed := time.Since(start)
			a.metrics.observe(r.Method, route, status, elapsed)
			attrs := []any{"method", r.Method, "route", route, "path", r.URL.Path, "status", status,
				"bytes", rec.bytes, "duration_ms", float64(elapsed.Microseconds()) / 1000, "remote", r.RemoteAddr}
			if state.userID != 0 {
				attrs = append(attrs, "user_id", state.userID)
			}
			if state.err != nil {
				a.log.ErrorContext(r.Context(), "request", append(attrs, "error", state.err.Error())...)
				return
			}
			a.log.InfoContext(r.Context(), "request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}

// requestState is what the inner handlers tell the access log.
type requestState struct {
	err    error
	userID int64
}

type requestStateKey struct{}

// recordFailure keeps an internal error for the access log line.
func recordFailure(r *http.Request, err error) {
	if state, ok := r.Context().Value(requestStateKey{}).(*requestState); ok {
		state.err = err
	}
}

// setUser names the authenticated user on the access log line.
func setUser(r *http.Request, id int64) {
	if state, ok := r.Context().Value(requestStateKey{}).(*requestState); ok {
		state.userID = id
	}
}

// recoverPanic turns a handler panic into a 500 problem with a generic
// detail; the panic value and stack go to the log only.
func (a *API) recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.log.ErrorContext(r.Context(), "handler panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			recordFailure(r, fmt.Errorf("panic: %v", v))
			if rec.status == 0 {
				writeProblem(rec, r, gathering.EINTERNAL, "An internal error occurred.", nil)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// securityHeaders sets the headers every API response carries. Routes that
// serve pages (the docs) replace the content security policy.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// CORS: what a browser may send and read.
var (
	corsMethods = "GET, POST, PUT, PATCH, DELETE"
	corsHeaders = "Authorization, Content-Type, X-Request-ID, Idempotency-Key, If-Match, Last-Event-ID"
	corsExposed = "X-Request-ID, Retry-After, Location, ETag"
)

// cors allows the configured origins ("*" allows any) and answers their
// preflight requests; a preflight from any other origin gets 403.
func cors(origins []string) func(http.Handler) http.Handler {
	anyOrigin := slices.Contains(origins, "*")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
			if origin == "" {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Add("Vary", "Origin")
			if !anyOrigin && !slices.Contains(origins, origin) {
				if preflight {
					writeProblem(w, r, gathering.EFORBIDDEN, "Origin "+strconv.Quote(origin)+" is not allowed (CORS_ORIGINS).", nil)
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", corsExposed)
			if preflight {
				h.Set("Access-Control-Allow-Methods", corsMethods)
				h.Set("Access-Control-Allow-Headers", corsHeaders)
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// limitBody refuses a declared Content-Length over limit at once, and caps
// what a handler can read to limit bytes.
func limitBody(limit int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > limit {
				writeProblem(w, r, gathering.ETOOLARGE, fmt.Sprintf("The request body exceeds the limit of %d bytes.", limit), nil)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			next.ServeHTTP(w, r)
		})
	}
}

// deadline gives the request's context a deadline; handlers and the stores
// they call stop when it passes.
func deadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// maxLoggedBody is how much of a request body debug body logging keeps.
const maxLoggedBody = 4096

// logBody logs the request body, secrets redacted, at debug level. It is
// only installed when GATHERING_LOG_BODIES is on (refused in production).
func (a *API) logBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var seen bytes.Buffer
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(r.Body, &limitedWriter{&seen, maxLoggedBody}), r.Body}
		next.ServeHTTP(w, r)
		if seen.Len() > 0 && strings.Contains(r.Header.Get("Content-Type"), "json") {
			a.log.DebugContext(r.Context(), "request body", "body", logging.RedactJSON(seen.Bytes()))
		} else if seen.Len() > 0 {
			a.log.DebugContext(r.Context(), "request body", "body", fmt.Sprintf("(%d bytes of %s)", seen.Len(), r.Header.Get("Content-Type")))
		}
	})
}

// limitedWriter keeps the first n bytes written to it and drops the rest.
type limitedWriter struct {
	buf *bytes.Buffer
	n   int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if room := l.n - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
