package openapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

type healthResponse struct {
	Status string `json:"status" enum:"ok,degraded"`
}

type pipeline struct {
	ID        string    `json:"id"`
	Name      string    `json:"name" doc:"Display name."`
	CreatedAt time.Time `json:"created_at"`
}

type createPipeline struct {
	Name string `json:"name"`
}

type pipelineList struct {
	Items []pipeline `json:"items"`
	Total int        `json:"total"`
}

var testInfo = Info{Title: "GatheRing", Version: "1.0.0", Description: "Agents working together."}

// sampleOps is a small route table like the HTTP layer's.
func sampleOps() []Operation {
	return []Operation{
		{Method: "GET", Path: "/health", Summary: "Liveness", Tag: "system",
			Responses: []Response{{Status: 200, Body: healthResponse{}}}},
		{Method: "GET", Path: "/metrics", Summary: "Prometheus metrics", Tag: "system",
			Responses: []Response{{Status: 200, ContentType: "text/plain; version=0.0.4", Body: ""}}},
		{Method: "get", Path: "/pipelines", Summary: "List pipelines", Tag: "pipelines",
			Responses: []Response{{Status: 200, Body: pipelineList{}}}},
		{Method: "POST", Path: "/pipelines", Summary: "Create a pipeline", Tag: "pipelines",
			RequestBody: createPipeline{},
			Responses: []Response{
				{Status: 201, Body: pipeline{}},
				{Status: 422, ContentType: ProblemContentType, Description: "Invalid pipeline."},
			}},
		{Method: "GET", Path: "/pipelines/{id}", Summary: "Get a pipeline", Tag: "pipelines",
			Responses: []Response{{Status: 200, Body: &pipeline{}}}},
		{Method: "DELETE", Path: "/pipelines/{id}", Tag: "pipelines", OperationID: "removePipeline",
			Responses: []Response{{Status: 204}}},
		{Method: "GET", Path: "/pipelines/{id}/runs/{run_id:[0-9]+}", Tag: "pipelines",
			Responses: []Response{{Status: 200, Body: map[string]any{}}}},
	}
}

func mustBuild(t *testing.T, ops []Operation) *Document {
	t.Helper()
	doc, err := Build(testInfo, ops)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return doc
}

func TestBuildValidAndStable(t *testing.T) {
	t.Parallel()
	first, err := json.Marshal(mustBuild(t, sampleOps()))
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(first); err != nil {
		t.Fatalf("Validate: %v\n%s", err, first)
	}
	for range 5 {
		again, _ := json.Marshal(mustBuild(t, sampleOps()))
		if !bytes.Equal(first, again) {
			t.Fatal("two builds of the same table differ")
		}
	}
}

func TestBuildHeader(t *testing.T) {
	t.Parallel()
	doc := mustBuild(t, sampleOps())
	if doc.OpenAPI != "3.1.0" || doc.Info != testInfo {
		t.Errorf("header = %q %+v", doc.OpenAPI, doc.Info)
	}
	want := []Tag{{Name: "pipelines"}, {Name: "system"}}
	if !reflect.DeepEqual(doc.Tags, want) {
		t.Errorf("tags = %v, want %v", doc.Tags, want)
	}
}

func TestBuildPaths(t *testing.T) {
	t.Parallel()
	got := mustBuild(t, sampleOps()).Paths()
	want := map[string][]string{
		"/health":                       {"GET"},
		"/metrics":                      {"GET"},
		"/pipelines":                    {"GET", "POST"},
		"/pipelines/{id}":               {"DELETE", "GET"},
		"/pipelines/{id}/runs/{run_id}": {"GET"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Paths() = %v\nwant %v", got, want)
	}
}

func TestBuildPathParameters(t *testing.T) {
	t.Parallel()
	op := mustBuild(t, sampleOps()).PathItems["/pipelines/{id}/runs/{run_id}"]["get"]
	got := mustJSON(t, op.Parameters)
	want := `[{"name":"id","in":"path","required":true,"schema":{"type":"string"}},` +
		`{"name":"run_id","in":"path","required":true,"schema":{"type":"string","pattern":"^[0-9]+$"}}]`
	if got != want {
		t.Errorf("parameters\n got %s\nwant %s", got, want)
	}
}

func TestPathTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want, err string }{
		{"/", "/", ""},
		{"/pipelines/{id}", "/pipelines/{id}", ""},
		{"/runs/{id:[0-9]+}", "/runs/{id}", ""},
		{"/codes/{code:[A-Z]{3}}/x", "/codes/{code}/x", ""},
		{"/files/{name}.{ext}", "/files/{name}.{ext}", ""},
		{"/a/{id}/b/{id}", "", "twice"},
		{"/ui/*", "", "wildcard"},
		{"/a/{id", "", "unclosed"},
		{"/a/{}", "", "bad parameter name"},
		{"/a/}", "", "unexpected"},
		{"pipelines", "", "does not start with /"},
	}
	for _, tt := range tests {
		got, err := PathTemplate(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("PathTemplate(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("PathTemplate(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestDefaultOperationID(t *testing.T) {
	t.Parallel()
	tests := []struct{ method, path, want string }{
		{"GET", "/", "getRoot"},
		{"GET", "/health", "getHealth"},
		{"post", "/pipelines", "postPipelines"},
		{"GET", "/pipelines/{id}/runs", "getPipelinesByIdRuns"},
		{"POST", "/pipelines/{id}/runs/{run_id}/approvals/{node_id}", "postPipelinesByIdRunsByRunIdApprovalsByNodeId"},
		{"PUT", "/scheduled-actions/{id}", "putScheduledActionsById"},
		{"GET", "/openapi.json", "getOpenapiJson"},
	}
	for _, tt := range tests {
		if got := defaultOperationID(tt.method, tt.path); got != tt.want {
			t.Errorf("defaultOperationID(%s %s) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
	doc := mustBuild(t, sampleOps())
	if id := doc.PathItems["/pipelines/{id}"]["delete"].OperationID; id != "removePipeline" {
		t.Errorf("explicit operationId = %q", id)
	}
	if id := doc.PathItems["/pipelines/{id}/runs/{run_id}"]["get"].OperationID; id != "getPipelinesByIdRunsByRunId" {
		t.Errorf("default operationId = %q", id)
	}
}

func TestBuildBodies(t *testing.T) {
	t.Parallel()
	doc := mustBuild(t, sampleOps())
	post := doc.PathItems["/pipelines"]["post"]
	checks := []struct{ name, got, want string }{
		{"request body", mustJSON(t, post.RequestBody),
			`{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/createPipeline"}}}}`},
		{"201", mustJSON(t, post.Responses["201"]),
			`{"description":"Created","content":{"application/json":{"schema":{"$ref":"#/components/schemas/pipeline"}}}}`},
		{"422", mustJSON(t, post.Responses["422"]),
			`{"description":"Invalid pipeline.","content":{"application/problem+json":{"schema":{"$ref":"#/components/schemas/Problem"}}}}`},
		{"204", mustJSON(t, doc.PathItems["/pipelines/{id}"]["delete"].Responses["204"]), `{"description":"No Content"}`},
		{"text", mustJSON(t, doc.PathItems["/metrics"]["get"].Responses["200"]),
			`{"description":"OK","content":{"text/plain; version=0.0.4":{"schema":{"type":"string"}}}}`},
		{"pointer body", mustJSON(t, doc.PathItems["/pipelines/{id}"]["get"].Responses["200"].Content["application/json"].Schema),
			`{"$ref":"#/components/schemas/pipeline"}`},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.name, c.got, c.want)
		}
	}
	if doc.PathItems["/health"]["get"].RequestBody != nil {
		t.Error("GET /health has a request body")
	}
}

func TestBuildProblemResponses(t *testing.T) {
	t.Parallel()
	doc := mustBuild(t, sampleOps())
	want := `{"description":"Error, described as RFC 9457 problem details.","content":{"application/problem+json":{"schema":{"$ref":"#/components/schemas/Problem"}}}}`
	for path, item := range doc.PathItems {
		for method, op := range item {
			if got := mustJSON(t, op.Responses["default"]); got != want {
				t.Errorf("%s %s default = %s", method, path, got)
			}
		}
	}
	problem := doc.Components.Schemas[ProblemSchemaName]
	if !reflect.DeepEqual(problem.Required, []string{"type", "title", "status"}) {
		t.Errorf("Problem.required = %v", problem.Required)
	}
	for _, p := range []string{"type", "title", "status", "detail", "instance", "request_id", "errors"} {
		if problem.Properties[p] == nil {
			t.Errorf("Problem has no %q", p)
		}
	}
	if problem.Properties["errors"].Items.Ref != schemaRefPrefix+FieldErrorSchemaName {
		t.Error("Problem.errors does not list field errors")
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	ok := []Response{{Status: 200}}
	tests := []struct {
		name string
		info Info
		ops  []Operation
		want string
	}{
		{"missing info", Info{}, nil, "title and a version"},
		{"duplicate", testInfo, []Operation{
			{Method: "GET", Path: "/a/{id}", Responses: ok},
			{Method: "get", Path: "/a/{id:[0-9]+}", Responses: ok},
		}, "duplicate operation GET /a/{id}"},
		{"duplicate id", testInfo, []Operation{
			{Method: "GET", Path: "/a", OperationID: "x", Responses: ok},
			{Method: "GET", Path: "/b", OperationID: "x", Responses: ok},
		}, `duplicate operationId "x"`},
		{"generated id clash", testInfo, []Operation{
			{Method: "GET", Path: "/a-b", Responses: ok},
			{Method: "GET", Path: "/a_b", Responses: ok},
		}, `duplicate operationId "getAB"`},
		{"method", testInfo, []Operation{{Method: "FETCH", Path: "/a", Responses: ok}}, "unknown method"},
		{"wildcard", testInfo, []Operation{{Method: "GET", Path: "/ui/*", Responses: ok}}, "wildcard"},
		{"no responses", testInfo, []Operation{{Method: "GET", Path: "/a"}}, "no responses"},
		{"duplicate status", testInfo, []Operation{{Method: "GET", Path: "/a",
			Responses: []Response{{Status: 200}, {Status: 200}}}}, "duplicate response 200"},
		{"bad status", testInfo, []Operation{{Method: "GET", Path: "/a",
			Responses: []Response{{Status: 42}}}}, "out of range"},
		{"204 with body", testInfo, []Operation{{Method: "DELETE", Path: "/a",
			Responses: []Response{{Status: 204, Body: pipeline{}}}}}, "no body"},
		{"bad body", testInfo, []Operation{{Method: "POST", Path: "/a", RequestBody: make(chan int),
			Responses: ok}}, "cannot be encoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := Build(tt.info, tt.ops)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if doc != nil {
				t.Error("a document came back with the error")
			}
		})
	}
}

func TestBuildReportsEveryError(t *testing.T) {
	t.Parallel()
	_, err := Build(testInfo, []Operation{
		{Method: "GET", Path: "/a/*", Responses: []Response{{Status: 200}}},
		{Method: "GET", Path: "/b"},
	})
	if err == nil || !strings.Contains(err.Error(), "/a/*") || !strings.Contains(err.Error(), "GET /b") {
		t.Fatalf("err = %v, want both operations named", err)
	}
}

func TestBuildEmpty(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(mustBuild(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"paths":{}`)) {
		t.Errorf("empty document has no paths object: %s", b)
	}
	if err := Validate(b); err != nil {
		t.Fatal(err)
	}
}
