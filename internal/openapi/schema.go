package openapi

// Schema is a JSON Schema (2020-12 dialect, as OpenAPI 3.1 uses). The zero
// value marshals as {}, the schema that accepts any value.
type Schema struct {
	Ref             string             `json:"$ref,omitempty"`
	Type            string             `json:"type,omitempty"`
	Format          string             `json:"format,omitempty"`
	ContentEncoding string             `json:"contentEncoding,omitempty"`
	Description     string             `json:"description,omitempty"`
	Enum            []any              `json:"enum,omitempty"`
	Pattern         string             `json:"pattern,omitempty"`
	Minimum         *float64           `json:"minimum,omitempty"`
	Properties      map[string]*Schema `json:"properties,omitempty"`
	Required        []string           `json:"required,omitempty"`
	// AdditionalProperties is nil (absent), false (a closed object) or a
	// *Schema (the schema of every value of a map).
	AdditionalProperties any       `json:"additionalProperties,omitempty"`
	Items                *Schema   `json:"items,omitempty"`
	AnyOf                []*Schema `json:"anyOf,omitempty"`
}

// schemaRefPrefix starts every reference to a named schema.
const schemaRefPrefix = "#/components/schemas/"

// refTo returns a schema that refers to the named component schema.
func refTo(name string) *Schema {
	return &Schema{Ref: schemaRefPrefix + name}
}

// nullable returns a schema that accepts what s accepts, or null.
func nullable(s *Schema) *Schema {
	return &Schema{AnyOf: []*Schema{s, {Type: "null"}}}
}

// innermost returns the schema that value-level keywords (enum, format)
// apply to: the element of arrays and the non-null branch of nullables.
func innermost(s *Schema) *Schema {
	for {
		switch {
		case s.Items != nil:
			s = s.Items
		case len(s.AnyOf) == 2 && s.AnyOf[1].Type == "null":
			s = s.AnyOf[0]
		default:
			return s
		}
	}
}
