package httpapi

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/openapi"
)

// buildOpenAPI turns the route table into the OpenAPI 3.1 document served
// at /openapi.json.
func (a *API) buildOpenAPI() ([]byte, error) {
	ops := make([]openapi.Operation, 0, len(a.routes))
	for _, rt := range a.routes {
		ops = append(ops, openapi.Operation{
			Method:      rt.Method,
			Path:        rt.Pattern,
			OperationID: rt.ID,
			Summary:     rt.Summary,
			Tag:         rt.Tag,
			RequestBody: rt.Request,
			Responses: []openapi.Response{{
				Status:      cmp.Or(rt.Status, http.StatusOK),
				ContentType: rt.ContentType,
				Body:        rt.Response,
			}},
		})
	}
	doc, err := openapi.Build(openapi.Info{
		Title:       "GatheRing API",
		Version:     gathering.Build().Version,
		Description: "Self-hosted server for teams of AI agents. Every error is an RFC 9457 problem (application/problem+json).",
	}, ops)
	if err != nil {
		return nil, fmt.Errorf("build OpenAPI document: %w", err)
	}
	return json.Marshal(doc)
}

func (a *API) openAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(a.openapi) // a failed write means the client left
	return nil
}
