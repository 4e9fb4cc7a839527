package openapi

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DocsFS holds the API documentation page: docs/index.html, docs/docs.js and
// docs/docs.css. The page reads the spec's URL from its
// <meta name="openapi-spec"> element ([DefaultSpecURL] as shipped).
//
//go:embed docs
var DocsFS embed.FS

// DefaultSpecURL is where the page fetches the document unless told
// otherwise.
const DefaultSpecURL = "/openapi.json"

// DocsCSP is the Content-Security-Policy the docs page works under; the
// handler sends it with every file.
const DocsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// specMeta is the element of index.html that carries the spec's URL.
const specMeta = `<meta name="openapi-spec" content="` + DefaultSpecURL + `">`

// DocsHandler serves the documentation page, which loads the document from
// specURL (DefaultSpecURL when empty; same origin only, as the CSP allows).
//
// Mount it at a prefix so that it receives the prefix and everything under
// it, e.g. with chi r.Handle("/docs", h) and r.Handle("/docs/*", h), or
// behind http.StripPrefix. It serves docs.js and docs.css by name and the
// page for a path ending in "/" or "/index.html"; another file name is 404,
// and any other path (such as "/docs") is redirected to itself with a
// trailing slash, so that the page's relative links work. Only GET and HEAD
// are allowed. Every file is sent with [DocsCSP], an ETag and no-cache.
func DocsHandler(specURL string) http.Handler {
	page := mustRead("docs/index.html")
	meta := `<meta name="openapi-spec" content="` + html.EscapeString(cmp.Or(specURL, DefaultSpecURL)) + `">`
	index := newDocsFile("index.html", bytes.Replace(page, []byte(specMeta), []byte(meta), 1))
	files := map[string]docsFile{
		"":           index,
		"index.html": index,
		"docs.js":    newDocsFile("docs.js", mustRead("docs/docs.js")),
		"docs.css":   newDocsFile("docs.css", mustRead("docs/docs.css")),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveDocs(w, r, files)
	})
}

// docsFile is one embedded file ready to serve.
type docsFile struct {
	name string
	body []byte
	etag string
}

func newDocsFile(name string, body []byte) docsFile {
	sum := sha256.Sum256(body)
	return docsFile{name: name, body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// mustRead reads an embedded file; they are known to exist at build time.
func mustRead(name string) []byte {
	b, err := fs.ReadFile(DocsFS, name)
	if err != nil {
		panic("openapi: embedded " + name + " is missing: " + err.Error())
	}
	return b
}

// serveDocs answers one request for the page or its assets.
func serveDocs(w http.ResponseWriter, r *http.Request, files map[string]docsFile) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeProblem(w, http.StatusMethodNotAllowed)
		return
	}
	reqPath := requestPath(r)
	name := reqPath[strings.LastIndexByte(reqPath, '/')+1:]
	f, ok := files[name]
	switch {
	case !ok && strings.Contains(name, "."):
		writeProblem(w, http.StatusNotFound)
		return
	case !ok:
		redirectToDir(w, r, name)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", DocsCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}

// redirectToDir sends the browser from ".../name" to ".../name/". The
// Location is relative, so it is right behind any stripped prefix.
func redirectToDir(w http.ResponseWriter, r *http.Request, name string) {
	loc := url.PathEscape(name) + "/"
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusMovedPermanently)
}

// requestPath returns the path the client asked for, before any prefix was
// stripped, so that redirects stay relative to what the browser sees.
func requestPath(r *http.Request) string {
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && u.Path != "" {
		return u.Path
	}
	return r.URL.Path
}

// writeProblem writes a minimal RFC 9457 body for errors of the handler.
func writeProblem(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", ProblemContentType)
	w.WriteHeader(status)
	text := http.StatusText(status)
	_, _ = w.Write([]byte(`{"type":"about:blank","title":"` + text + `","status":` + strconv.Itoa(status) + `}`))
}
