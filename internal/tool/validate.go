package tool

import (
	"bytes"
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/gathering/gathering/internal/gathering"
)

var printer = message.NewPrinter(language.English)

// validateInput checks raw against sch. Empty input counts as {}. It returns
// EMALFORMED when raw is not JSON and EINVALID with every violation, sorted
// by JSON pointer, when it does not match.
func validateInput(sch *jsonschema.Schema, raw []byte) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		e := gathering.Errorf(gathering.EMALFORMED, "The tool input is not valid JSON.")
		e.Err = err
		return e
	}
	if fields := violations(sch, doc); len(fields) > 0 {
		return gathering.Invalid("The tool input is invalid.", fields...)
	}
	return nil
}

// violations validates doc and flattens the result into field errors.
func violations(sch *jsonschema.Schema, doc any) []gathering.FieldError {
	err := sch.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []gathering.FieldError{{Field: "", Message: err.Error()}}
	}
	var out []gathering.FieldError
	collect(ve, &out)
	sortFields(out)
	return slices.Compact(out)
}

// collect appends the leaf errors of ve. anyOf and oneOf are reported as
// one error at their location rather than one per failed branch.
func collect(ve *jsonschema.ValidationError, out *[]gathering.FieldError) {
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, field(ve.InstanceLocation, m, "is required"))
		}
		return
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, field(ve.InstanceLocation, p, "is not allowed"))
		}
		return
	case *kind.AnyOf, *kind.OneOf:
		*out = append(*out, field(ve.InstanceLocation, "", k.LocalizedString(printer)))
		return
	}
	if len(ve.Causes) == 0 {
		*out = append(*out, field(ve.InstanceLocation, "", ve.ErrorKind.LocalizedString(printer)))
		return
	}
	for _, c := range ve.Causes {
		collect(c, out)
	}
}

// field builds a FieldError for the location loc, extended by prop when
// prop is not empty.
func field(loc []string, prop, msg string) gathering.FieldError {
	if prop != "" {
		loc = append(slices.Clip(loc), prop)
	}
	return gathering.FieldError{Field: Pointer(loc...), Message: msg}
}

// Pointer returns the JSON pointer (RFC 6901) made of tokens; no tokens is
// the empty pointer, the whole document.
func Pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
}

// sortFields orders field errors by pointer (array indexes numerically),
// then by message.
func sortFields(fs []gathering.FieldError) {
	slices.SortFunc(fs, func(a, b gathering.FieldError) int {
		if c := comparePointers(a.Field, b.Field); c != 0 {
			return c
		}
		return cmp.Compare(a.Message, b.Message)
	})
}

func comparePointers(a, b string) int {
	at, bt := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(at) && i < len(bt); i++ {
		if c := compareTokens(at[i], bt[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(at), len(bt))
}

func compareTokens(a, b string) int {
	an, aerr := strconv.ParseUint(a, 10, 64)
	bn, berr := strconv.ParseUint(b, 10, 64)
	if aerr == nil && berr == nil {
		return cmp.Compare(an, bn)
	}
	return cmp.Compare(a, b)
}
