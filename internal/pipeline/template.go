package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gathering/gathering/internal/tool"
)

// A template is text with references in double braces:
// {{ nodes.<node id>.output }}, {{ nodes.<node id>.output.<path> }},
// {{ trigger }} or {{ trigger.<path> }}, where a path is dot-separated
// object keys and array indexes. There is no escape: every "{{" opens a
// reference.

// piece is a literal text, or a reference when path is not nil.
type piece struct {
	text string
	path []string
}

// parseTemplate splits s into literal text and references.
func parseTemplate(s string) ([]piece, error) {
	var out []piece
	for {
		start := strings.Index(s, "{{")
		if start < 0 {
			if s != "" {
				out = append(out, piece{text: s})
			}
			return out, nil
		}
		if start > 0 {
			out = append(out, piece{text: s[:start]})
		}
		end := strings.Index(s[start+2:], "}}")
		if end < 0 {
			return nil, errors.New(`a "{{" is not closed by "}}"`)
		}
		path, err := parsePath(s[start+2 : start+2+end])
		if err != nil {
			return nil, err
		}
		out = append(out, piece{text: s[start : start+4+end], path: path})
		s = s[start+4+end:]
	}
}

// parsePath splits the inside of a reference into its keys.
func parsePath(ref string) ([]string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.ContainsAny(ref, " \t\r\n{}") {
		return nil, fmt.Errorf("%q is not a reference: write {{ nodes.<id>.output… }} or {{ trigger… }}", "{{"+ref+"}}")
	}
	path := strings.Split(ref, ".")
	if slices.Contains(path, "") {
		return nil, fmt.Errorf("the reference %q has an empty key", ref)
	}
	return path, nil
}

// Render replaces each reference in template by the value it names in data
// (JSON values as decoded by encoding/json: maps, slices, strings, numbers,
// booleans, nil). A string is inserted as is, any other value as compact
// JSON. A reference to nothing is an error naming it.
func Render(template string, data map[string]any) (string, error) {
	pieces, err := parseTemplate(template)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range pieces {
		if p.path == nil {
			b.WriteString(p.text)
			continue
		}
		v, err := lookup(data, p.path)
		if err != nil {
			return "", err
		}
		if err := writeValue(&b, v); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// writeValue writes a string as is and any other value as compact JSON.
func writeValue(b *strings.Builder, v any) error {
	if s, ok := v.(string); ok {
		b.WriteString(s)
		return nil
	}
	out, err := marshal(v)
	b.Write(out)
	return err
}

// RenderJSON renders every string inside the JSON value raw as a template.
// A string that is exactly one reference is replaced by the referenced
// value itself, keeping its JSON type. Errors name the JSON pointer of the
// string at fault.
func RenderJSON(raw json.RawMessage, data map[string]any) (json.RawMessage, error) {
	doc, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	out, err := mapStrings(doc, nil, func(ptr []string, s string) (any, error) {
		v, err := renderValue(s, data)
		if err != nil && len(ptr) > 0 {
			err = fmt.Errorf("%s: %w", tool.Pointer(ptr...), err)
		}
		return v, err
	})
	if err != nil {
		return nil, err
	}
	return marshal(out)
}

// renderValue renders s; a lone reference yields the value it names.
func renderValue(s string, data map[string]any) (any, error) {
	pieces, err := parseTemplate(s)
	if err != nil {
		return nil, err
	}
	if len(pieces) == 1 && pieces[0].path != nil {
		return lookup(data, pieces[0].path)
	}
	return Render(s, data)
}

// lookup returns the value at path in data.
func lookup(data map[string]any, path []string) (any, error) {
	var cur any = data
	for _, key := range path {
		var ok bool
		switch c := cur.(type) {
		case map[string]any:
			cur, ok = c[key]
		case []any:
			var i int
			i, ok = index(key, len(c))
			if ok {
				cur = c[i]
			}
		}
		if !ok {
			return nil, fmt.Errorf("nothing at %q", strings.Join(path, "."))
		}
	}
	return cur, nil
}

// index parses key as an index into an array of n elements.
func index(key string, n int) (int, bool) {
	i, err := strconv.Atoi(key)
	return i, err == nil && i >= 0 && i < n
}

// mapStrings returns v with each string s inside it replaced by fn(pointer
// tokens, s), visiting object keys in sorted order.
func mapStrings(v any, ptr []string, fn func(ptr []string, s string) (any, error)) (any, error) {
	switch c := v.(type) {
	case string:
		return fn(ptr, c)
	case map[string]any:
		out := make(map[string]any, len(c))
		for _, k := range slices.Sorted(maps.Keys(c)) {
			r, err := mapStrings(c[k], append(slices.Clip(ptr), k), fn)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(c))
		for i, e := range c {
			r, err := mapStrings(e, append(slices.Clip(ptr), strconv.Itoa(i)), fn)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// decodeJSON decodes raw, keeping numbers exact.
func decodeJSON(raw json.RawMessage) (any, error) {
	if !json.Valid(raw) {
		return nil, errors.New("not valid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// marshal encodes v as compact JSON without escaping HTML characters.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
