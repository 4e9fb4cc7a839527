package openapi_test

import (
	"encoding/json"
	"fmt"

	"github.com/gathering/gathering/internal/openapi"
)

// HealthResponse is the body of GET /health in this example.
type HealthResponse struct {
	Status  string `json:"status" enum:"ok,degraded" doc:"Overall state."`
	Version string `json:"version"`
}

func ExampleBuild() {
	doc, err := openapi.Build(openapi.Info{Title: "GatheRing", Version: "1.0.0"}, []openapi.Operation{
		{Method: "GET", Path: "/health", Summary: "Liveness", Tag: "system",
			Responses: []openapi.Response{{Status: 200, Body: HealthResponse{}}}},
		{Method: "DELETE", Path: "/pipelines/{id:[0-9a-f-]+}", Summary: "Delete a pipeline", Tag: "pipelines",
			Responses: []openapi.Response{{Status: 204}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(doc.Paths())
	fmt.Println(doc.PathItems["/pipelines/{id}"]["delete"].OperationID)
	b, _ := json.Marshal(doc.Components.Schemas["HealthResponse"])
	fmt.Println(string(b))
	fmt.Println(openapi.Validate(mustMarshal(doc)))
	// Output:
	// map[/health:[GET] /pipelines/{id}:[DELETE]]
	// deletePipelinesById
	// {"type":"object","properties":{"status":{"type":"string","description":"Overall state.","enum":["ok","degraded"]},"version":{"type":"string"}},"required":["status","version"],"additionalProperties":false}
	// <nil>
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
