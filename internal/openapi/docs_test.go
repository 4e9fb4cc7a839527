package openapi

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestDocsFiles(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"docs/index.html", "docs/docs.js", "docs/docs.css"} {
		b, err := fs.ReadFile(DocsFS, name)
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", name, err, len(b))
		}
	}
}

var (
	urlAttr     = regexp.MustCompile(`(?i)\b(src|href|action|content)\s*=\s*["']?([^"'\s>]*)`)
	inlineStyle = regexp.MustCompile(`(?i)<style|\sstyle\s*=|\son[a-z]+\s*=`)
	inlineCode  = regexp.MustCompile(`(?is)<script\b[^>]*>\s*[^<\s]`)
)

// TestDocsSameOrigin checks that the page loads nothing from elsewhere and
// has no inline code or style, which the CSP would block.
func TestDocsSameOrigin(t *testing.T) {
	t.Parallel()
	page, _ := fs.ReadFile(DocsFS, "docs/index.html")
	for _, m := range urlAttr.FindAllStringSubmatch(string(page), -1) {
		if u := strings.ToLower(m[2]); strings.HasPrefix(u, "http:") || strings.HasPrefix(u, "https:") || strings.HasPrefix(u, "//") {
			t.Errorf("index.html loads %s=%q from another origin", m[1], m[2])
		}
	}
	if loc := inlineStyle.FindString(string(page)); loc != "" {
		t.Errorf("index.html has inline style or handler: %q", loc)
	}
	if loc := inlineCode.FindString(string(page)); loc != "" {
		t.Errorf("index.html has an inline script: %q", loc)
	}
	if !strings.Contains(string(page), specMeta) {
		t.Errorf("index.html lacks %s", specMeta)
	}
	css, _ := fs.ReadFile(DocsFS, "docs/docs.css")
	if strings.Contains(string(css), "@import") || strings.Contains(string(css), "url(") {
		t.Error("docs.css loads other resources")
	}
}

// TestDocsScriptIsSafe keeps the script free of markup injection and eval.
func TestDocsScriptIsSafe(t *testing.T) {
	t.Parallel()
	js, _ := fs.ReadFile(DocsFS, "docs/docs.js")
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute('style'", "http://", "https://"} {
		if strings.Contains(string(js), bad) {
			t.Errorf("docs.js uses %s", bad)
		}
	}
}

func TestDocsHandler(t *testing.T) {
	t.Parallel()
	h := DocsHandler(`/api/openapi.json?x="<b>"`)
	tests := []struct {
		method, path string
		status       int
		contentType  string
		contains     string
	}{
		{"GET", "/docs/", 200, "text/html; charset=utf-8", `content="/api/openapi.json?x=&#34;&lt;b&gt;&#34;"`},
		{"GET", "/docs/index.html", 200, "text/html; charset=utf-8", `<script src="docs.js"`},
		{"HEAD", "/docs/", 200, "text/html; charset=utf-8", ""},
		{"GET", "/docs/docs.js", 200, "text/javascript; charset=utf-8", "use strict"},
		{"GET", "/docs/docs.css", 200, "text/css; charset=utf-8", ":root"},
		{"GET", "/docs/logo.png", 404, ProblemContentType, `"status":404`},
		{"POST", "/docs/", 405, ProblemContentType, `"title":"Method Not Allowed"`},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.status || rec.Header().Get("Content-Type") != tt.contentType {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, rec.Code, rec.Header().Get("Content-Type"), tt.status, tt.contentType)
		}
		if !strings.Contains(rec.Body.String(), tt.contains) {
			t.Errorf("%s %s body lacks %q", tt.method, tt.path, tt.contains)
		}
		if tt.status == 200 && rec.Header().Get("Content-Security-Policy") != DocsCSP {
			t.Errorf("%s %s has no CSP", tt.method, tt.path)
		}
	}
}

func TestDocsHandlerRedirect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.Handler
		target  string
	}{
		{"mounted", DocsHandler(""), "/docs?tag=x"},
		{"behind StripPrefix", http.StripPrefix("/api/docs", DocsHandler("")), "/api/docs?tag=x"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		tt.handler.ServeHTTP(rec, httptest.NewRequest("GET", tt.target, nil))
		if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "docs/?tag=x" {
			t.Errorf("%s: GET %s = %d Location %q, want 301 docs/?tag=x", tt.name, tt.target, rec.Code, rec.Header().Get("Location"))
		}
	}
	rec := httptest.NewRecorder()
	http.StripPrefix("/api/docs", DocsHandler("")).ServeHTTP(rec, httptest.NewRequest("GET", "/api/docs/", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `content="/openapi.json"`) {
		t.Errorf("GET /api/docs/ behind StripPrefix = %d", rec.Code)
	}
}

func TestDocsHandlerConditional(t *testing.T) {
	t.Parallel()
	h := DocsHandler("")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/docs/docs.js", nil))
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	req := httptest.NewRequest("GET", "/docs/docs.js", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("conditional GET = %d, want 304", rec.Code)
	}
}
