package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Validate checks the structure of a marshaled OpenAPI 3.1 document: it is
// JSON; openapi is 3.1.x; info has a title and a version; every path starts
// with "/"; every path template parameter is declared in: path, required:
// true (and every path parameter appears in its template); every operation
// has responses and a unique operationId; every "$ref" is local and
// resolves. It reports every problem found, not only the first.
func Validate(doc []byte) error {
	var root map[string]any
	if err := json.Unmarshal(doc, &root); err != nil {
		return fmt.Errorf("openapi: not a JSON object: %w", err)
	}
	v := &validator{root: root, ids: make(map[string]string)}
	v.header()
	v.paths()
	v.refs(root, "#")
	return errors.Join(v.errs...)
}

// validator collects the problems of one document.
type validator struct {
	root map[string]any
	ids  map[string]string // operationId → where it was seen
	errs []error
}

func (v *validator) fail(format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("openapi: "+format, args...))
}

// header checks the openapi version and the info object.
func (v *validator) header() {
	if version, _ := v.root["openapi"].(string); !strings.HasPrefix(version, "3.1.") {
		v.fail("openapi is %q, want 3.1.x", v.root["openapi"])
	}
	info, _ := v.root["info"].(map[string]any)
	for _, key := range []string{"title", "version"} {
		if s, _ := info[key].(string); s == "" {
			v.fail("info.%s is missing", key)
		}
	}
}

// paths checks every path item, in sorted order for stable messages.
func (v *validator) paths() {
	paths, ok := v.root["paths"].(map[string]any)
	if !ok {
		if _, present := v.root["paths"]; present {
			v.fail("paths is not an object")
		}
		return
	}
	for _, path := range sortedKeys(paths) {
		if !strings.HasPrefix(path, "/") {
			v.fail("path %q does not start with /", path)
		}
		item, ok := paths[path].(map[string]any)
		if !ok {
			v.fail("path %q is not an object", path)
			continue
		}
		v.pathItem(path, item)
	}
}

// pathItem checks each operation of one path.
func (v *validator) pathItem(path string, item map[string]any) {
	shared := v.parameters(item["parameters"])
	for _, m := range methods {
		op, ok := item[strings.ToLower(m)].(map[string]any)
		if !ok {
			continue
		}
		where := m + " " + path
		v.operation(where, op)
		params := v.parameters(op["parameters"])
		v.pathParams(where, path, append(shared, params...))
	}
}

// operation checks an operation's responses and operationId.
func (v *validator) operation(where string, op map[string]any) {
	rs, _ := op["responses"].(map[string]any)
	if len(rs) == 0 {
		v.fail("%s has no responses", where)
	}
	for _, code := range sortedKeys(rs) {
		if !validResponseKey(code) {
			v.fail("%s: bad response key %q", where, code)
		}
	}
	id, _ := op["operationId"].(string)
	if prev, dup := v.ids[id]; dup && id != "" {
		v.fail("%s: operationId %q is already used by %s", where, id, prev)
	}
	v.ids[id] = where
}

var responseKey = regexp.MustCompile(`^([1-5][0-9][0-9]|[1-5]XX|default)$`)

func validResponseKey(k string) bool { return responseKey.MatchString(k) }

// parameters returns the parameter objects of a list, $refs resolved.
func (v *validator) parameters(list any) []map[string]any {
	items, _ := list.([]any)
	var out []map[string]any
	for _, it := range items {
		p, _ := it.(map[string]any)
		if ref, ok := p["$ref"].(string); ok {
			p, _ = resolve(v.root, ref).(map[string]any)
		}
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

var templateParam = regexp.MustCompile(`\{([^{}/]+)\}`)

// pathParams checks that the template's parameters and the declared path
// parameters match, all required.
func (v *validator) pathParams(where, path string, params []map[string]any) {
	declared := make(map[string]bool)
	for _, p := range params {
		if p["in"] != "path" {
			continue
		}
		name, _ := p["name"].(string)
		declared[name] = true
		if p["required"] != true {
			v.fail("%s: path parameter %q is not required", where, name)
		}
	}
	inTemplate := make(map[string]bool)
	for _, m := range templateParam.FindAllStringSubmatch(path, -1) {
		inTemplate[m[1]] = true
		if !declared[m[1]] {
			v.fail("%s: path parameter %q is not declared", where, m[1])
		}
	}
	for _, name := range sortedKeys(declared) {
		if !inTemplate[name] {
			v.fail("%s: path parameter %q is not in the path", where, name)
		}
	}
}

// refs checks every "$ref" under node: it must point inside the document.
func (v *validator) refs(node any, at string) {
	switch n := node.(type) {
	case map[string]any:
		for _, k := range sortedKeys(n) {
			if ref, ok := n[k].(string); ok && k == "$ref" && resolve(v.root, ref) == nil {
				v.fail("%s: $ref %q does not resolve", at, ref)
			}
			v.refs(n[k], at+"/"+k)
		}
	case []any:
		for i, e := range n {
			v.refs(e, at+"/"+strconv.Itoa(i))
		}
	}
}

// resolve follows a local JSON-pointer reference ("#/a/b") from root; it
// returns nil when the reference is not local or leads nowhere.
func resolve(root map[string]any, ref string) any {
	pointer, ok := strings.CutPrefix(ref, "#")
	if !ok || (pointer != "" && !strings.HasPrefix(pointer, "/")) {
		return nil
	}
	var node any = root
	for _, tok := range strings.Split(pointer, "/")[1:] {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch n := node.(type) {
		case map[string]any:
			node = n[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil
			}
			node = n[i]
		default:
			return nil
		}
	}
	return node
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
