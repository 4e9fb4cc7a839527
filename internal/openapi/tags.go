package openapi

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// field returns the schema of one struct field: its type's schema, made
// nullable for a pointer that is encoded even when nil, then enriched by the
// doc, enum and format tags.
func (g *generator) field(f jsonField) (*Schema, error) {
	s, err := g.fieldType(f)
	if err != nil {
		return nil, err
	}
	if f.typ.Kind() == reflect.Pointer && !f.omit {
		s = nullable(s)
	}
	if doc := f.tag.Get("doc"); doc != "" {
		s.Description = strings.TrimSpace(doc + " " + s.Description)
	}
	if format := f.tag.Get("format"); format != "" {
		innermost(s).Format = format
	}
	if enum, ok := f.tag.Lookup("enum"); ok {
		return s, setEnum(innermost(s), enum)
	}
	return s, nil
}

// fieldType returns the schema of the field's type, honoring ",string".
func (g *generator) fieldType(f jsonField) (*Schema, error) {
	if f.quoted && quotable(f.typ) {
		return &Schema{Type: "string"}, nil
	}
	return g.schema(f.typ)
}

// quotable reports whether the ",string" option applies to values of t.
func quotable(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Float32, reflect.Float64:
		return true
	}
	return t.Kind() >= reflect.Int && t.Kind() <= reflect.Uintptr
}

// setEnum parses the comma-separated values of an enum tag as s's type.
func setEnum(s *Schema, tag string) error {
	for v := range strings.SplitSeq(tag, ",") {
		value, err := enumValue(s.Type, strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("enum tag %q: %w", tag, err)
		}
		s.Enum = append(s.Enum, value)
	}
	return nil
}

// enumValue parses one enum value as a value of the JSON type typ.
func enumValue(typ, v string) (any, error) {
	switch typ {
	case "integer":
		return strconv.ParseInt(v, 10, 64)
	case "number":
		return strconv.ParseFloat(v, 64)
	case "boolean":
		return strconv.ParseBool(v)
	case "string", "":
		return v, nil
	}
	return nil, fmt.Errorf("enum is not supported on type %s", typ)
}
