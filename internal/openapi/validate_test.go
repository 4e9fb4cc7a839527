package openapi

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	const head = `"openapi":"3.1.0","info":{"title":"t","version":"1"}`
	op := func(params, responses string) string {
		return `{"operationId":"x","parameters":[` + params + `],"responses":` + responses + `}`
	}
	idParam := `{"name":"id","in":"path","required":true,"schema":{"type":"string"}}`
	okResponses := `{"200":{"description":"OK"}}`
	tests := []struct {
		name, doc, want string
	}{
		{"valid", `{` + head + `,"paths":{"/a/{id}":{"get":` + op(idParam, okResponses) + `}}}`, ""},
		{"valid path-level parameter", `{` + head + `,"paths":{"/a/{id}":{"parameters":[` + idParam + `],"get":` + op("", okResponses) + `}}}`, ""},
		{"valid ref parameter", `{` + head + `,"components":{"parameters":{"id":` + idParam + `}},"paths":{"/a/{id}":{"get":` + op(`{"$ref":"#/components/parameters/id"}`, okResponses) + `}}}`, ""},
		{"not JSON", `{`, "not a JSON object"},
		{"version", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{}}`, `want 3.1.x`},
		{"title", `{"openapi":"3.1.0","info":{"version":"1"},"paths":{}}`, "info.title is missing"},
		{"version missing", `{"openapi":"3.1.0","info":{"title":"t"}}`, "info.version is missing"},
		{"relative path", `{` + head + `,"paths":{"a":{}}}`, `path "a" does not start with /`},
		{"undeclared param", `{` + head + `,"paths":{"/a/{id}":{"get":` + op("", okResponses) + `}}}`, `"id" is not declared`},
		{"optional param", `{` + head + `,"paths":{"/a/{id}":{"get":` + op(`{"name":"id","in":"path"}`, okResponses) + `}}}`, `"id" is not required`},
		{"param not in path", `{` + head + `,"paths":{"/a":{"get":` + op(idParam, okResponses) + `}}}`, `"id" is not in the path`},
		{"no responses", `{` + head + `,"paths":{"/a":{"get":` + op("", `{}`) + `}}}`, "has no responses"},
		{"bad response key", `{` + head + `,"paths":{"/a":{"get":` + op("", `{"ok":{"description":""}}`) + `}}}`, `bad response key "ok"`},
		{"duplicate operationId", `{` + head + `,"paths":{"/a":{"get":` + op("", okResponses) + `,"put":` + op("", okResponses) + `}}}`, `operationId "x" is already used by GET /a`},
		{"dangling ref", `{` + head + `,"paths":{},"components":{"schemas":{"A":{"$ref":"#/components/schemas/B"}}}}`, `"#/components/schemas/B" does not resolve`},
		{"external ref", `{` + head + `,"paths":{},"x":{"$ref":"other.json#/A"}}`, `"other.json#/A" does not resolve`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate([]byte(tt.doc))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	root := map[string]any{"a/b": map[string]any{"c~d": []any{"x", "y"}}}
	tests := []struct {
		ref  string
		want any
	}{
		{"#/a~1b/c~0d/1", "y"},
		{"#/a~1b/c~0d/2", nil},
		{"#/missing", nil},
		{"x.json#/a", nil},
		{"#a", nil},
	}
	for _, tt := range tests {
		if got := resolve(root, tt.ref); got != tt.want {
			t.Errorf("resolve(%q) = %v, want %v", tt.ref, got, tt.want)
		}
	}
	if resolve(root, "#") == nil {
		t.Error(`resolve("#") is not the root`)
	}
}
