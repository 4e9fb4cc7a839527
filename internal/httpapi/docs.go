package httpapi

import (
	"mime"
	"net/http"
	"path"

	"github.com/gathering/gathering/internal/openapi"
)

// docsPage serves one file of the embedded documentation page under the
// policy the page was written for.
func (a *API) docsPage(name string) http.Handler {
	body, err := openapi.DocsFS.ReadFile("docs/" + name)
	if err != nil {
		panic("docs page file missing from the binary: " + name) // caught by the tests
	}
	contentType := mime.TypeByExtension(path.Ext(name))
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Security-Policy", openapi.DocsCSP)
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	})
}
