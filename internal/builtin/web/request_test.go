package web

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
)

func TestGetJSON(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Add("X-Multi", "first")
		w.Header().Add("X-Multi", "second")
		io.WriteString(w, `{"answer": 42, "list": [true, null, "a"]}`)
	})
	out := mustCall(t, setup(t, loopback, Options{}), "http.request", get(tg.URL+"/thing?q=1"))
	want := map[string]any{"answer": 42.0, "list": []any{true, nil, "a"}}
	if !reflect.DeepEqual(out["body"], want) || out["body_encoding"] != "json" || out["status"] != 200.0 {
		t.Fatalf("output %v", out)
	}
	h := out["headers"].(map[string]any)
	if h["content-type"] != "application/json; charset=utf-8" || h["x-multi"] != "first" || out["truncated"] != false {
		t.Errorf("output %v", out)
	}
	if ms, ok := out["duration_ms"].(float64); !ok || ms < 0 {
		t.Errorf("duration_ms %v", out["duration_ms"])
	}
}

// echo is a handler answering the method, headers and body it received.
func echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"method": r.Method, "path": r.URL.RequestURI(), "body": string(body), "length": r.ContentLength,
		"content_type": r.Header.Get("Content-Type"), "user_agent": r.Header.Get("User-Agent"),
		"custom": r.Header.Get("X-Custom"), "idempotency_key": r.Header.Get("Idempotency-Key"),
	})
}

// echoed calls http.request against an echo server and returns what the
// server received.
func echoed(t *testing.T, in map[string]any) map[string]any {
	t.Helper()
	tg := newTarget(t, echo)
	in["url"] = tg.URL + "/echo?x=1"
	out := mustCall(t, setup(t, loopback, Options{}), "http.request", in)
	if out["body_encoding"] != "json" {
		t.Fatalf("output %v", out)
	}
	return out["body"].(map[string]any)
}

func TestPostJSON(t *testing.T) {
	t.Parallel()
	got := echoed(t, map[string]any{"method": "POST", "body": map[string]any{"name": "x", "n": []int{1, 2}}})
	var sent map[string]any
	if err := json.Unmarshal([]byte(got["body"].(string)), &sent); err != nil {
		t.Fatalf("server received %q: %v", got["body"], err)
	}
	if !reflect.DeepEqual(sent, map[string]any{"name": "x", "n": []any{1.0, 2.0}}) ||
		got["content_type"] != "application/json" || got["method"] != "POST" || got["path"] != "/echo?x=1" {
		t.Errorf("server received %v", got)
	}
	if got["length"] != float64(len(got["body"].(string))) {
		t.Errorf("content length %v for %q", got["length"], got["body"])
	}
}

func TestBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ct         string
		body             any
		wantBody, wantCT string
	}{
		{name: "string as JSON", body: "hello", wantBody: `"hello"`, wantCT: "application/json"},
		{name: "text content type", ct: "text/plain; charset=utf-8", body: "hello\nworld", wantBody: "hello\nworld", wantCT: "text/plain; charset=utf-8"},
		{name: "xml sent as is", ct: "application/xml", body: "<a/>", wantBody: "<a/>", wantCT: "application/xml"},
		{name: "string with JSON type", ct: "application/merge-patch+json", body: "x", wantBody: `"x"`, wantCT: "application/merge-patch+json"},
		{name: "object with text type", ct: "text/plain", body: map[string]int{"a": 1}, wantBody: `{"a":1}`, wantCT: "text/plain"},
		{name: "number", body: 1.5, wantBody: "1.5", wantCT: "application/json"},
		{name: "null is no body", body: nil, wantBody: "", wantCT: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := map[string]any{"method": "PUT", "body": tt.body}
			if tt.ct != "" {
				in["headers"] = map[string]string{"content-type": tt.ct}
			}
			got := echoed(t, in)
			if got["body"] != tt.wantBody || got["content_type"] != tt.wantCT || got["method"] != "PUT" {
				t.Errorf("server received %v, want body %q, type %q", got, tt.wantBody, tt.wantCT)
			}
		})
	}
}

func TestHeadersArrive(t *testing.T) {
	t.Parallel()
	got := echoed(t, map[string]any{"method": "DELETE", "headers": map[string]string{
		"X-Custom": "custom value", "Idempotency-Key": "run-1:node-a", "User-Agent": "agent/1.0",
	}})
	if got["custom"] != "custom value" || got["idempotency_key"] != "run-1:node-a" ||
		got["user_agent"] != "agent/1.0" || got["method"] != "DELETE" {
		t.Errorf("server received %v", got)
	}
	got = echoed(t, map[string]any{"method": "PATCH"})
	if got["user_agent"] != "GatheRing" || got["idempotency_key"] != "" || got["method"] != "PATCH" {
		t.Errorf("server received %v", got)
	}
}

func TestTextAndHead(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Method", r.Method)
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "héllo, not {json}")
	})
	reg := setup(t, loopback, Options{})
	out := mustCall(t, reg, "http.request", get(tg.URL))
	if out["body"] != "héllo, not {json}" || out["body_encoding"] != "text" || out["status"] != 418.0 {
		t.Errorf("GET output %v", out)
	}
	out = mustCall(t, reg, "http.request", map[string]any{"method": "HEAD", "url": tg.URL})
	h := out["headers"].(map[string]any)
	if out["body"] != "" || out["status"] != 418.0 || h["x-method"] != "HEAD" {
		t.Errorf("HEAD output %v", out)
	}
}

func TestBinaryAndBadJSON(t *testing.T) {
	t.Parallel()
	bin := []byte{0x89, 'P', 'N', 'G', 0, 0xff, 0xfe}
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "{not json")
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(bin)
	})
	reg := setup(t, loopback, Options{})
	out := mustCall(t, reg, "http.request", get(tg.URL))
	if out["body"] != base64.StdEncoding.EncodeToString(bin) || out["body_encoding"] != "base64" {
		t.Errorf("binary output %v", out)
	}
	out = mustCall(t, reg, "http.request", get(tg.URL+"/bad"))
	if out["body"] != "{not json" || out["body_encoding"] != "text" {
		t.Errorf("bad JSON output %v", out)
	}
}

func TestTruncated(t *testing.T) {
	t.Parallel()
	const limit = 1000
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.Header().Set("Content-Type", "application/json")
		// "é" is two bytes: at an odd cut, the limit splits one.
		io.WriteString(w, `"`+strings.Repeat("é", n)+`"`)
	})
	reg := setup(t, loopback, Options{MaxResponse: limit})
	tests := []struct {
		n         int
		truncated bool
		body      any
	}{
		{n: 499, truncated: false, body: strings.Repeat("é", 499)},
		{n: 500, truncated: true, body: `"` + strings.Repeat("é", 499)},
		{n: 100000, truncated: true, body: `"` + strings.Repeat("é", 499)},
	}
	for _, tt := range tests {
		out := mustCall(t, reg, "http.request", get(fmt.Sprintf("%s/?n=%d", tg.URL, tt.n)))
		if out["truncated"] != tt.truncated || out["body"] != tt.body {
			t.Errorf("n=%d: truncated %v, body of %d bytes", tt.n, out["truncated"], len(fmt.Sprint(out["body"])))
		}
	}
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if n > 0 {
			http.Redirect(w, r, fmt.Sprintf("/%d", n-1), http.StatusFound)
			return
		}
		io.WriteString(w, "arrived")
	})
	reg := setup(t, loopback, Options{})
	if out := mustCall(t, reg, "http.request", get(tg.URL+"/5")); out["body"] != "arrived" {
		t.Errorf("5 redirects: %v", out)
	}
	_, err := call(t, reg, "http.request", get(tg.URL+"/6"))
	wantCode(t, err, gathering.EINVALID)
	if !strings.Contains(gathering.ErrorMessage(err), "redirected too many times") {
		t.Errorf("message %q", gathering.ErrorMessage(err))
	}
	out := mustCall(t, setup(t, loopback, Options{MaxRedirects: -1}), "http.request", get(tg.URL+"/1"))
	if out["status"] != 302.0 || out["headers"].(map[string]any)["location"] != "/0" {
		t.Errorf("no redirects: %v", out)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	_, err := call(t, setup(t, loopback, Options{}), "http.request",
		map[string]any{"method": "GET", "url": tg.URL, "timeout_seconds": 1})
	wantCode(t, err, gathering.ETIMEOUT)
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = call(t, setup(t, loopback, Options{}), "http.request", get("http://"+addr+"/"))
	wantCode(t, err, gathering.EUNAVAILABLE)
	if msg := gathering.ErrorMessage(err); !strings.Contains(msg, addr) || !strings.Contains(msg, "refused") {
		t.Errorf("message %q", msg)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, nil)
	reg := setup(t, loopback, Options{})
	tests := []struct {
		name   string
		in     map[string]any
		fields []string
	}{
		{"bad method", map[string]any{"method": "TRACE", "url": tg.URL}, []string{"/method"}},
		{"lower-case method", map[string]any{"method": "get", "url": tg.URL}, []string{"/method"}},
		{"missing url", map[string]any{"method": "GET"}, []string{"/url"}},
		{"extra property", map[string]any{"method": "GET", "url": tg.URL, "follow": true}, []string{"/follow"}},
		{"ftp", get("ftp://127.0.0.1/file"), []string{"/url"}},
		{"file", get("file:///etc/passwd"), []string{"/url"}},
		{"relative", get("/just/a/path"), []string{"/url"}},
		{"no host", get("http:///path"), []string{"/url"}},
		{"unparsable", get("http://[::1/"), []string{"/url"}},
		{"too long", get(tg.URL + "/" + strings.Repeat("a", 2048)), []string{"/url"}},
		{"timeout zero", map[string]any{"method": "GET", "url": tg.URL, "timeout_seconds": 0}, []string{"/timeout_seconds"}},
		{"timeout too long", map[string]any{"method": "GET", "url": tg.URL, "timeout_seconds": 121}, []string{"/timeout_seconds"}},
		{"header value not a string", headers(tg.URL, map[string]any{"X-A": 1}), []string{"/headers/X-A"}},
		{"header value with newline", headers(tg.URL, map[string]any{"X-A": "a\r\nX-B: b"}), []string{"/headers/X-A"}},
		{"bad header name", headers(tg.URL, map[string]any{"X A": "b"}), []string{"/headers/X A"}},
		{"header name too long", headers(tg.URL, map[string]any{strings.Repeat("X", 257): "b"}), []string{"/headers/" + strings.Repeat("X", 257)}},
		{"header value too long", headers(tg.URL, map[string]any{"X-A": strings.Repeat("v", 8193)}), []string{"/headers/X-A"}},
		{"header twice", headers(tg.URL, map[string]any{"X-A": "1", "x-a": "2"}), []string{"/headers/x-a"}},
		{"too many headers", headers(tg.URL, manyHeaders(51)), []string{"/headers"}},
	}
	for _, name := range []string{"Host", "content-length", "Transfer-Encoding", "Connection", "Keep-Alive",
		"TE", "Trailer", "Upgrade", "Proxy-Authorization", "Proxy-Connection"} {
		tests = append(tests, struct {
			name   string
			in     map[string]any
			fields []string
		}{name, headers(tg.URL, map[string]any{name: "x", "X-Fine": "y"}), []string{"/headers/" + name}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := call(t, reg, "http.request", tt.in)
			wantFields(t, err, tt.fields...)
		})
	}
	t.Cleanup(func() {
		if n := tg.hits.Load(); n != 0 {
			t.Errorf("invalid requests reached the server %d times", n)
		}
	})
}

// headers is a GET input for u with the given headers.
func headers(u string, h map[string]any) map[string]any {
	return map[string]any{"method": "GET", "url": u, "headers": h}
}

// manyHeaders returns n distinct headers.
func manyHeaders(n int) map[string]any {
	h := map[string]any{}
	for i := range n {
		h[fmt.Sprintf("X-H%d", i)] = "v"
	}
	return h
}

func TestFieldErrorsCombine(t *testing.T) {
	t.Parallel()
	_, err := call(t, setup(t, loopback, Options{}), "http.request",
		headers("gopher://x/", map[string]any{"Host": "evil", "Connection": "close"}))
	wantFields(t, err, "/url", "/headers/Connection", "/headers/Host")
}

func TestHeaderValueNotEchoed(t *testing.T) {
	t.Parallel()
	_, err := call(t, setup(t, loopback, Options{}), "http.request",
		headers("http://127.0.0.1/", map[string]any{"Authorization": "Bearer top-secret-token\r\n"}))
	wantFields(t, err, "/headers/Authorization")
	if strings.Contains(err.Error(), "top-secret") || strings.Contains(fmt.Sprint(gathering.ErrorFields(err)), "top-secret") {
		t.Errorf("error shows the header value: %v", err)
	}
}
