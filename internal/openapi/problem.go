package openapi

// Names of the hand-written component schemas describing RFC 9457 problem
// details, which every operation lists as its default response.
const (
	ProblemSchemaName      = "Problem"
	FieldErrorSchemaName   = "ProblemFieldError"
	ProblemContentType     = "application/problem+json"
	problemDefaultResponse = "Error, described as RFC 9457 problem details."
)

// problemSchemas returns the component schemas of the problem type that the
// HTTP layer writes for every error. Problem objects stay open: RFC 9457
// allows extension members.
func problemSchemas() map[string]*Schema {
	str := func(desc string) *Schema { return &Schema{Type: "string", Description: desc} }
	return map[string]*Schema{
		ProblemSchemaName: {
			Type:        "object",
			Description: "Problem details (RFC 9457).",
			Required:    []string{"type", "title", "status"},
			Properties: map[string]*Schema{
				"type":       {Type: "string", Format: "uri-reference", Description: "Identifies the problem type."},
				"title":      str("A short summary of the problem type."),
				"status":     {Type: "integer", Format: "int32", Description: "The HTTP status code."},
				"detail":     str("What went wrong in this occurrence."),
				"instance":   {Type: "string", Format: "uri-reference", Description: "Identifies this occurrence."},
				"request_id": str("The id of the request, as logged by the server."),
				"errors": {
					Type:        "array",
					Description: "Field-level validation errors.",
					Items:       refTo(FieldErrorSchemaName),
				},
			},
		},
		FieldErrorSchemaName: {
			Type:     "object",
			Required: []string{"field", "message"},
			Properties: map[string]*Schema{
				"field":   str("The invalid field, as a name or a JSON pointer."),
				"message": str("What is wrong with it."),
			},
		},
	}
}

// problemResponse is the default response of every operation.
func problemResponse(description string) ResponseObject {
	return ResponseObject{
		Description: description,
		Content:     map[string]MediaTypeObject{ProblemContentType: {Schema: refTo(ProblemSchemaName)}},
	}
}
