package openapi

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Operation describes one route of the HTTP layer's table.
type Operation struct {
	// Method is the HTTP method, in any case.
	Method string
	// Path is a chi-style pattern: "/pipelines/{id}" or "/runs/{id:[0-9]+}".
	Path        string
	Summary     string
	Description string
	Tag         string
	// OperationID defaults to a camel-case name built from method and path.
	OperationID string
	// RequestBody is a zero value of the JSON body's Go type, or nil.
	RequestBody any
	// Responses lists the success (and any documented error) responses; a
	// default problem response is always added.
	Responses []Response
}

// Response describes one response of an operation.
type Response struct {
	Status int
	// Description defaults to the status text.
	Description string
	// ContentType defaults to application/json.
	ContentType string
	// Body is a zero value of the body's Go type (a struct, a string, …), or
	// nil for no body. With ContentType application/problem+json a nil Body
	// means the Problem schema.
	Body any
}

// methods are the HTTP methods OpenAPI can describe.
var methods = []string{
	http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete,
	http.MethodOptions, http.MethodHead, http.MethodPatch, http.MethodTrace,
}

// Build turns a route table into an OpenAPI 3.1 document. It reports every
// invalid operation at once: bad patterns, duplicate method and path,
// duplicate operation ids, types that cannot be encoded as JSON, schema name
// collisions.
func Build(info Info, ops []Operation) (*Document, error) {
	b := newBuilder(info)
	var errs []error
	if info.Title == "" || info.Version == "" {
		errs = append(errs, errors.New("openapi: info needs a title and a version"))
	}
	for _, op := range ops {
		if err := b.add(op); err != nil {
			errs = append(errs, fmt.Errorf("openapi: %s %s: %w", op.Method, op.Path, err))
		}
	}
	errs = append(errs, b.gen.finalize(b.doc.Components.Schemas))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	b.doc.Tags = b.tags()
	return b.doc, nil
}

// builder accumulates a Document, one operation at a time.
type builder struct {
	doc *Document
	gen *generator
	ids map[string]bool
}

func newBuilder(info Info) *builder {
	return &builder{
		doc: &Document{
			OpenAPI:    Version,
			Info:       info,
			PathItems:  make(map[string]PathItem),
			Components: Components{Schemas: problemSchemas()},
		},
		gen: newGenerator(),
		ids: make(map[string]bool),
	}
}

// add describes op in the document.
func (b *builder) add(op Operation) error {
	method := strings.ToUpper(op.Method)
	if !slices.Contains(methods, method) {
		return fmt.Errorf("unknown method %q", op.Method)
	}
	tmpl, params, err := parsePattern(op.Path)
	if err != nil {
		return err
	}
	key := strings.ToLower(method)
	if _, dup := b.doc.PathItems[tmpl][key]; dup {
		return fmt.Errorf("duplicate operation %s %s", method, tmpl)
	}
	o, err := b.operation(op, method, tmpl, params)
	if err != nil {
		return err
	}
	if b.doc.PathItems[tmpl] == nil {
		b.doc.PathItems[tmpl] = make(PathItem)
	}
	b.doc.PathItems[tmpl][key] = o
	return nil
}

// operation builds the operation object of op.
func (b *builder) operation(op Operation, method, tmpl string, params []pathParam) (*OperationObject, error) {
	id := cmp.Or(op.OperationID, defaultOperationID(method, tmpl))
	if b.ids[id] {
		return nil, fmt.Errorf("duplicate operationId %q", id)
	}
	b.ids[id] = true
	o := &OperationObject{
		OperationID: id, Summary: op.Summary, Description: op.Description,
		Parameters: pathParameters(params),
	}
	if op.Tag != "" {
		o.Tags = []string{op.Tag}
	}
	var err error
	if o.RequestBody, err = b.requestBody(op.RequestBody); err != nil {
		return nil, fmt.Errorf("request body: %w", err)
	}
	o.Responses, err = b.responses(op.Responses)
	return o, err
}

// pathParameters declares each template parameter as a required string.
func pathParameters(params []pathParam) []ParameterObject {
	var out []ParameterObject
	for _, p := range params {
		s := &Schema{Type: "string"}
		if p.pattern != "" {
			s.Pattern = anchored(p.pattern)
		}
		out = append(out, ParameterObject{Name: p.name, In: "path", Required: true, Schema: s})
	}
	return out
}

// requestBody describes a required JSON body of body's type, if any.
func (b *builder) requestBody(body any) (*RequestBodyObject, error) {
	s, err := b.gen.schemaOf(body)
	if s == nil || err != nil {
		return nil, err
	}
	return &RequestBodyObject{
		Required: true,
		Content:  map[string]MediaTypeObject{"application/json": {Schema: s}},
	}, nil
}

// responses describes rs plus the default problem response.
func (b *builder) responses(rs []Response) (map[string]ResponseObject, error) {
	if len(rs) == 0 {
		return nil, errors.New("no responses")
	}
	out := map[string]ResponseObject{"default": problemResponse(problemDefaultResponse)}
	for _, r := range rs {
		key := strconv.Itoa(r.Status)
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("duplicate response %d", r.Status)
		}
		ro, err := b.response(r)
		if err != nil {
			return nil, fmt.Errorf("response %d: %w", r.Status, err)
		}
		out[key] = ro
	}
	return out, nil
}

// response describes one response.
func (b *builder) response(r Response) (ResponseObject, error) {
	if r.Status < 100 || r.Status > 599 {
		return ResponseObject{}, errors.New("status out of range")
	}
	ro := ResponseObject{Description: cmp.Or(r.Description, http.StatusText(r.Status))}
	s, err := b.responseSchema(r)
	if s == nil || err != nil {
		return ro, err
	}
	if !bodyAllowed(r.Status) {
		return ro, errors.New("this status has no body")
	}
	ro.Content = map[string]MediaTypeObject{cmp.Or(r.ContentType, "application/json"): {Schema: s}}
	return ro, nil
}

// responseSchema returns the schema of r's body, or nil for no body.
func (b *builder) responseSchema(r Response) (*Schema, error) {
	if r.Body == nil && mediaType(r.ContentType) == ProblemContentType {
		return refTo(ProblemSchemaName), nil
	}
	return b.gen.schemaOf(r.Body)
}

// mediaType returns a content type without its parameters.
func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// bodyAllowed reports whether a response with this status may have a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// tags lists the operations' tags, sorted.
func (b *builder) tags() []Tag {
	var names []string
	for _, item := range b.doc.PathItems {
		for _, o := range item {
			names = append(names, o.Tags...)
		}
	}
	slices.Sort(names)
	var tags []Tag
	for _, n := range slices.Compact(names) {
		tags = append(tags, Tag{Name: n})
	}
	return tags
}
