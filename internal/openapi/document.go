package openapi

import (
	"slices"
	"strings"
)

// Version is the OpenAPI version of every Document this package builds.
const Version = "3.1.0"

// Document is an OpenAPI 3.1 document. Marshal it with encoding/json; maps
// are marshaled with sorted keys, so the output is stable.
type Document struct {
	OpenAPI    string              `json:"openapi"`
	Info       Info                `json:"info"`
	Tags       []Tag               `json:"tags,omitempty"`
	PathItems  map[string]PathItem `json:"paths"`
	Components Components          `json:"components"`
}

// Info describes the API: its title, version and an optional description.
type Info struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

// Tag names a group of operations.
type Tag struct {
	Name string `json:"name"`
}

// PathItem maps a lower-case HTTP method ("get", "post", …) to the operation
// served at one path.
type PathItem map[string]*OperationObject

// OperationObject is one operation of a Document, as OpenAPI spells it.
type OperationObject struct {
	OperationID string                    `json:"operationId"`
	Summary     string                    `json:"summary,omitempty"`
	Description string                    `json:"description,omitempty"`
	Tags        []string                  `json:"tags,omitempty"`
	Parameters  []ParameterObject         `json:"parameters,omitempty"`
	RequestBody *RequestBodyObject        `json:"requestBody,omitempty"`
	Responses   map[string]ResponseObject `json:"responses"`
}

// ParameterObject describes one parameter of an operation.
type ParameterObject struct {
	Name     string  `json:"name"`
	In       string  `json:"in"`
	Required bool    `json:"required"`
	Schema   *Schema `json:"schema"`
}

// RequestBodyObject describes the body an operation accepts.
type RequestBodyObject struct {
	Required bool                       `json:"required"`
	Content  map[string]MediaTypeObject `json:"content"`
}

// ResponseObject describes one response of an operation; Content is keyed
// by media type and empty for a response without a body.
type ResponseObject struct {
	Description string                     `json:"description"`
	Content     map[string]MediaTypeObject `json:"content,omitempty"`
}

// MediaTypeObject gives the schema of a body in one media type.
type MediaTypeObject struct {
	Schema *Schema `json:"schema"`
}

// Components holds the named schemas that "$ref"s point at.
type Components struct {
	Schemas map[string]*Schema `json:"schemas"`
}

// Paths returns every path of the document with its methods, upper case and
// sorted, so that it can be compared with a router's routes.
func (d *Document) Paths() map[string][]string {
	out := make(map[string][]string, len(d.PathItems))
	for path, item := range d.PathItems {
		methods := make([]string, 0, len(item))
		for m := range item {
			methods = append(methods, strings.ToUpper(m))
		}
		slices.Sort(methods)
		out[path] = methods
	}
	return out
}
