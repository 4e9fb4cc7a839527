package openapi

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// pathParam is one {name} or {name:regexp} of a chi route pattern.
type pathParam struct {
	name    string
	pattern string // chi's regexp, empty when any segment matches
}

// PathTemplate turns a chi route pattern into an OpenAPI path template:
// "/pipelines/{id:[0-9]+}" becomes "/pipelines/{id}". Wildcards ("/*") have
// no OpenAPI form and are an error.
func PathTemplate(pattern string) (string, error) {
	tmpl, _, err := parsePattern(pattern)
	return tmpl, err
}

// parsePattern returns the template of a chi pattern and its parameters.
func parsePattern(pattern string) (string, []pathParam, error) {
	if !strings.HasPrefix(pattern, "/") {
		return "", nil, fmt.Errorf("path %q does not start with /", pattern)
	}
	var b strings.Builder
	var params []pathParam
	for rest := pattern; rest != ""; {
		i := strings.IndexAny(rest, "{}*")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		if rest[i] != '{' {
			return "", nil, fmt.Errorf("path %q: unexpected %q (wildcards cannot be described)", pattern, rest[i])
		}
		b.WriteString(rest[:i])
		p, n, err := parseParam(rest[i:])
		if err != nil {
			return "", nil, fmt.Errorf("path %q: %w", pattern, err)
		}
		params = append(params, p)
		b.WriteString("{" + p.name + "}")
		rest = rest[i+n:]
	}
	return b.String(), params, checkParams(pattern, params)
}

// parseParam reads one {name} or {name:regexp} at the start of s and returns
// it with its length; braces inside the regexp nest.
func parseParam(s string) (pathParam, int, error) {
	depth := 0
	for i, r := range s {
		switch r {
		case '{':
			depth++
		case '}':
			depth--
		}
		if depth == 0 {
			name, rx, _ := strings.Cut(s[1:i], ":")
			if !validParamName(name) {
				return pathParam{}, 0, fmt.Errorf("bad parameter name %q", name)
			}
			return pathParam{name: name, pattern: rx}, i + 1, nil
		}
	}
	return pathParam{}, 0, errors.New("unclosed {")
}

// validParamName reports whether name can name a path parameter.
func validParamName(name string) bool {
	return name != "" && strings.IndexFunc(name, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-')
	}) < 0
}

// checkParams rejects a pattern that names a parameter twice.
func checkParams(pattern string, params []pathParam) error {
	seen := make(map[string]bool, len(params))
	for _, p := range params {
		if seen[p.name] {
			return fmt.Errorf("path %q names parameter %q twice", pattern, p.name)
		}
		seen[p.name] = true
	}
	return nil
}

// anchored returns a chi parameter regexp as an anchored JSON Schema pattern
// (chi matches the whole segment).
func anchored(rx string) string {
	if !strings.HasPrefix(rx, "^") {
		rx = "^" + rx
	}
	if !strings.HasSuffix(rx, "$") {
		rx += "$"
	}
	return rx
}

// defaultOperationID builds a stable camel-case id from a method and a path
// template: GET /pipelines/{id}/runs gives getPipelinesByIdRuns.
func defaultOperationID(method, tmpl string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	tmpl = strings.NewReplacer("{", " By ", "}", " ").Replace(tmpl)
	words := strings.FieldsFunc(tmpl, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r))
	})
	if len(words) == 0 {
		words = []string{"root"}
	}
	for _, w := range words {
		b.WriteString(upperFirst(w))
	}
	return b.String()
}
