package openapi

import (
	"reflect"
	"strings"
)

// jsonField is one field of a struct as encoding/json sees it.
type jsonField struct {
	name     string // the JSON name
	goName   string
	typ      reflect.Type
	tag      reflect.StructTag
	depth    int  // embedding depth; shallower fields win
	seq      int  // position among all candidate fields
	tagged   bool // the name comes from a json tag
	omit     bool // omitempty or omitzero
	quoted   bool // the ",string" option
	optional bool // reached through an embedded pointer
}

// required reports whether the field is always present in the JSON.
func (f jsonField) required() bool {
	return !f.omit && !f.optional && f.typ.Kind() != reflect.Pointer
}

// jsonFields returns the fields encoding/json encodes for the struct t,
// embedded structs flattened, in encoding order.
func jsonFields(t reflect.Type) []jsonField {
	var all []jsonField
	collectFields(t, 0, false, map[reflect.Type]bool{}, &all)
	return dominantFields(all)
}

// collectFields appends the candidate fields of t, recursing into embedded
// structs; seen guards against embedding cycles.
func collectFields(t reflect.Type, depth int, optional bool, seen map[reflect.Type]bool, out *[]jsonField) {
	if seen[t] {
		return
	}
	seen[t] = true
	defer delete(seen, t)
	for i := range t.NumField() {
		sf := t.Field(i)
		f, ok := parseField(sf, depth, optional)
		if !ok {
			continue
		}
		if embedded, ptr, ok := flattened(sf, f); ok {
			collectFields(embedded, depth+1, optional || ptr, seen, out)
			continue
		}
		f.seq = len(*out)
		*out = append(*out, f)
	}
}

// parseField reads a struct field's json tag; ok is false for fields that
// encoding/json skips.
func parseField(sf reflect.StructField, depth int, optional bool) (jsonField, bool) {
	tag := sf.Tag.Get("json")
	if tag == "-" {
		return jsonField{}, false
	}
	if !sf.IsExported() && !isEmbeddedStruct(sf) {
		return jsonField{}, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	f := jsonField{
		name: name, goName: sf.Name, typ: sf.Type, tag: sf.Tag, depth: depth,
		tagged: name != "", optional: optional,
		omit:   hasOption(opts, "omitempty") || hasOption(opts, "omitzero"),
		quoted: hasOption(opts, "string"),
	}
	if f.name == "" {
		f.name = sf.Name
	}
	return f, true
}

// isEmbeddedStruct reports whether sf embeds a struct or a pointer to one:
// encoding/json flattens those even when their type is unexported.
func isEmbeddedStruct(sf reflect.StructField) bool {
	t := sf.Type
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return sf.Anonymous && t.Kind() == reflect.Struct
}

// flattened returns the struct type to flatten when sf is an untagged
// embedded struct or pointer to struct, and whether it is a pointer.
func flattened(sf reflect.StructField, f jsonField) (reflect.Type, bool, bool) {
	if !sf.Anonymous || f.tagged {
		return nil, false, false
	}
	t := sf.Type
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || implementsAny(sf.Type) {
		return nil, false, false
	}
	return t, sf.Type.Kind() == reflect.Pointer, true
}

// hasOption reports whether the comma-separated json tag options include opt.
func hasOption(opts, opt string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// dominantFields applies encoding/json's rule to fields sharing a name: the
// shallowest wins; at equal depth a single tagged field wins; otherwise all
// are dropped. Order is preserved.
func dominantFields(all []jsonField) []jsonField {
	byName := make(map[string][]jsonField)
	for _, f := range all {
		byName[f.name] = append(byName[f.name], f)
	}
	var out []jsonField
	for _, f := range all {
		if winner, ok := dominant(byName[f.name]); ok && winner.seq == f.seq {
			out = append(out, f)
			delete(byName, f.name)
		}
	}
	return out
}

// dominant picks the field that encoding/json keeps among same-name fields.
func dominant(fields []jsonField) (jsonField, bool) {
	minDepth := fields[0].depth
	for _, f := range fields {
		minDepth = min(minDepth, f.depth)
	}
	var shallow, tagged []jsonField
	for _, f := range fields {
		if f.depth == minDepth {
			shallow = append(shallow, f)
			if f.tagged {
				tagged = append(tagged, f)
			}
		}
	}
	switch {
	case len(shallow) == 1:
		return shallow[0], true
	case len(tagged) == 1:
		return tagged[0], true
	}
	return jsonField{}, false
}
