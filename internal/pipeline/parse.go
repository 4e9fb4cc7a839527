package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Parse decodes a definition from the JSON the API stores verbatim: the
// nodes array, the edges array and the settings object. Empty or null parts
// are empty. Invalid JSON, unknown fields and values of the wrong JSON type
// are problems (one per node, edge or settings at most); the rest is still
// decoded, so Validate can report more, though a field that failed to
// decode is left zero and Validate may report it again.
func Parse(nodes, edges, settings json.RawMessage) (Definition, []Problem) {
	var d Definition
	var ps []Problem
	d.Nodes, ps = parseList(nodes, "nodes", func(n Node) string { return n.ID }, ps)
	d.Edges, ps = parseList(edges, "edges", func(e Edge) string { return e.ID }, ps)
	if !isNull(settings) {
		if field, msg := decodeStrict(settings, &d.Settings); msg != "" {
			ps = append(ps, loc{prefix: "settings"}.problem(field, msg))
		}
	}
	return d, ps
}

// parseList decodes the JSON array raw, called name, element by element.
// An element's problem names it by id when it has one, else by position.
func parseList[T any](raw json.RawMessage, name string, id func(T) string, ps []Problem) ([]T, []Problem) {
	if isNull(raw) {
		return nil, ps
	}
	var elems []json.RawMessage
	if field, msg := decodeStrict(raw, &elems); msg != "" {
		return nil, append(ps, loc{}.problem(join(name, field), msg))
	}
	out := make([]T, len(elems))
	for i, e := range elems {
		field, msg := decodeStrict(e, &out[i])
		if msg == "" {
			continue
		}
		ps = append(ps, locate(name, i, id(out[i])).problem(field, msg))
	}
	return out, ps
}

// loc locates a problem: by node or edge id, or by a path prefix from the
// definition ("nodes/3") when the element has no id.
type loc struct{ node, edge, prefix string }

// locate locates the i-th element of the list name ("nodes" or "edges")
// whose id is id.
func locate(name string, i int, id string) loc {
	switch {
	case id == "":
		return loc{prefix: fmt.Sprintf("%s/%d", name, i)}
	case name == "nodes":
		return loc{node: id}
	default:
		return loc{edge: id}
	}
}

// problem returns the problem msg about field at l.
func (l loc) problem(field, msg string) Problem {
	return Problem{NodeID: l.node, EdgeID: l.edge, Field: join(l.prefix, field), Message: msg}
}

// decodeStrict decodes raw into v, refusing unknown fields. On failure it
// returns the field at fault (a relative JSON pointer without its leading
// slash, empty for the whole value) and a message.
func decodeStrict(raw json.RawMessage, v any) (field, msg string) {
	if !json.Valid(raw) {
		return "", "is not valid JSON"
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return "", ""
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return strings.ReplaceAll(te.Field, ".", "/"), "must be " + jsonType(te.Type)
	}
	msg = strings.TrimPrefix(err.Error(), "json: ")
	if name, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return "", "has an unknown field " + name
	}
	return "", msg
}

// jsonType names the JSON type that decodes into t.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "an array"
	}
	return "an object"
}

// isNull reports whether raw is empty or the JSON null.
func isNull(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return len(s) == 0 || string(s) == "null"
}

// join joins two relative pointers with a slash, skipping empty ones.
func join(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "/" + b
}
