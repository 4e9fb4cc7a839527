package openapi

import (
	"fmt"
	"path"
	"reflect"
	"strings"
	"unicode"
)

// finalize names every component schema, fills in the references to them
// and adds them to schemas. A name shared by several types (or taken by a
// reserved schema) is qualified with the package name, as in
// "store.Agent"; names still equal after that are an error, never a merge.
func (g *generator) finalize(schemas map[string]*Schema) error {
	count := make(map[string]int)
	for name := range schemas {
		count[name]++
	}
	for _, n := range g.order {
		count[baseName(n.typ)]++
	}
	owners := make(map[string]reflect.Type)
	for _, n := range g.order {
		name := baseName(n.typ)
		if count[name] > 1 {
			name = qualifiedName(n.typ)
		}
		if _, taken := schemas[name]; taken {
			return fmt.Errorf("openapi: schema name %q is used by two types (%s and %s); rename one", name, owners[name], n.typ)
		}
		owners[name] = n.typ
		schemas[name] = n.schema
		for _, r := range n.refs {
			r.Ref = schemaRefPrefix + name
		}
	}
	return nil
}

// qualifiedName prefixes a type's schema name with its package's name.
func qualifiedName(t reflect.Type) string {
	pkg := path.Base(t.PkgPath())
	if pkg == "." || pkg == "/" {
		return baseName(t)
	}
	return sanitize(pkg) + "." + baseName(t)
}

// baseName returns the schema name of a named type: its Go name, with the
// type arguments of a generic type appended without their packages
// (Page[x/gathering.Agent] becomes PageAgent).
func baseName(t reflect.Type) string {
	name, args, generic := strings.Cut(t.Name(), "[")
	if !generic {
		return sanitize(name)
	}
	var b strings.Builder
	b.WriteString(name)
	for _, word := range strings.FieldsFunc(args, isTypeArgSeparator) {
		if i := strings.LastIndexByte(word, '.'); i >= 0 {
			word = word[i+1:]
		}
		b.WriteString(upperFirst(word))
	}
	return sanitize(b.String())
}

// isTypeArgSeparator splits a type-argument list into qualified identifiers
// such as github.com/go-chi/chi/v5.Mux.
func isTypeArgSeparator(r rune) bool {
	return !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_./-", r))
}

// sanitize keeps only the characters allowed in component names.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-", r)) {
			return r
		}
		return -1
	}, s)
}

// upperFirst returns s with its first letter in upper case.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
