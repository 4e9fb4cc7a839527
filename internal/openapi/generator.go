package openapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

var (
	timeType          = reflect.TypeFor[time.Time]()
	durationType      = reflect.TypeFor[time.Duration]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// generator turns Go types into JSON Schemas the way encoding/json encodes
// them. Named struct types become component schemas; the references to them
// are filled in by finalize, once every type is known, so that two types
// sharing a name can both be qualified.
type generator struct {
	named map[reflect.Type]*namedSchema
	order []*namedSchema
}

// namedSchema is a component schema and every reference made to it.
type namedSchema struct {
	typ    reflect.Type
	schema *Schema
	refs   []*Schema
}

func newGenerator() *generator {
	return &generator{named: make(map[reflect.Type]*namedSchema)}
}

// schemaOf returns the schema of v's type, or nil for a nil v.
func (g *generator) schemaOf(v any) (*Schema, error) {
	if v == nil {
		return nil, nil
	}
	return g.schema(reflect.TypeOf(v))
}

// schema returns the schema of values of type t.
func (g *generator) schema(t reflect.Type) (*Schema, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := special(t); ok {
		return s, nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		return g.ref(t)
	case reflect.Slice, reflect.Array:
		return g.array(t)
	case reflect.Map:
		return g.dict(t)
	case reflect.Interface:
		return &Schema{}, nil
	}
	if s, ok := scalar(t.Kind()); ok {
		return s, nil
	}
	return nil, fmt.Errorf("type %s (%s) cannot be encoded as JSON", t, t.Kind())
}

// special returns the schema of types that encode in their own way.
func special(t reflect.Type) (*Schema, bool) {
	switch {
	case t == timeType:
		return &Schema{Type: "string", Format: "date-time"}, true
	case t == durationType:
		return &Schema{Type: "integer", Format: "int64", Description: "Duration in nanoseconds."}, true
	case t == rawMessageType:
		return &Schema{}, true
	case implements(t, jsonMarshalerType):
		return &Schema{}, true
	case implements(t, textMarshalerType):
		return &Schema{Type: "string"}, true
	}
	return nil, false
}

// implements reports whether t or *t implements the interface iface.
func implements(t, iface reflect.Type) bool {
	if t.Kind() == reflect.Interface {
		return false
	}
	return t.Implements(iface) || reflect.PointerTo(t).Implements(iface)
}

// scalar returns the schema of strings, booleans and numbers.
func scalar(k reflect.Kind) (*Schema, bool) {
	switch k {
	case reflect.String:
		return &Schema{Type: "string"}, true
	case reflect.Bool:
		return &Schema{Type: "boolean"}, true
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return &Schema{Type: "integer", Format: "int32"}, true
	case reflect.Int, reflect.Int64:
		return &Schema{Type: "integer", Format: "int64"}, true
	case reflect.Uint8, reflect.Uint16:
		return &Schema{Type: "integer", Format: "int32", Minimum: new(0.0)}, true
	case reflect.Uint, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return &Schema{Type: "integer", Format: "int64", Minimum: new(0.0)}, true
	case reflect.Float32:
		return &Schema{Type: "number", Format: "float"}, true
	case reflect.Float64:
		return &Schema{Type: "number", Format: "double"}, true
	}
	return nil, false
}

// array returns the schema of a slice or array; []byte is base64 text.
func (g *generator) array(t reflect.Type) (*Schema, error) {
	if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 && !implementsAny(t.Elem()) {
		return &Schema{Type: "string", ContentEncoding: "base64"}, nil
	}
	items, err := g.schema(t.Elem())
	if err != nil {
		return nil, err
	}
	return &Schema{Type: "array", Items: items}, nil
}

// implementsAny reports whether t encodes itself as JSON or text.
func implementsAny(t reflect.Type) bool {
	return implements(t, jsonMarshalerType) || implements(t, textMarshalerType)
}

// dict returns the schema of a map, which encodes as an object.
func (g *generator) dict(t reflect.Type) (*Schema, error) {
	switch k := t.Key(); {
	case k.Kind() == reflect.String, implements(k, textMarshalerType):
	case k.Kind() >= reflect.Int && k.Kind() <= reflect.Uintptr:
	default:
		return nil, fmt.Errorf("map key type %s cannot be encoded as JSON", k)
	}
	values, err := g.schema(t.Elem())
	if err != nil {
		return nil, err
	}
	return &Schema{Type: "object", AdditionalProperties: values}, nil
}

// ref returns a reference to the component schema of the named struct t,
// generating that schema the first time t is seen. t is registered before
// its fields are visited, so recursive types end.
func (g *generator) ref(t reflect.Type) (*Schema, error) {
	n, ok := g.named[t]
	if !ok {
		n = &namedSchema{typ: t}
		g.named[t] = n
		g.order = append(g.order, n)
		s, err := g.object(t)
		if err != nil {
			return nil, err
		}
		n.schema = s
	}
	r := &Schema{}
	n.refs = append(n.refs, r)
	return r, nil
}

// object returns the closed object schema of the struct t.
func (g *generator) object(t reflect.Type) (*Schema, error) {
	s := &Schema{Type: "object", AdditionalProperties: false}
	for _, f := range jsonFields(t) {
		fs, err := g.field(f)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t, f.goName, err)
		}
		if s.Properties == nil {
			s.Properties = make(map[string]*Schema)
		}
		s.Properties[f.name] = fs
		if f.required() {
			s.Required = append(s.Required, f.name)
		}
	}
	return s, nil
}
