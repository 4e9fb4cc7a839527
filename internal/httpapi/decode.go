package httpapi

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gathering/gathering/internal/gathering"
)

// validator is implemented by request types that check themselves after
// decoding; the field errors become a 422.
type validator interface {
	Validate() error
}

// decodeOptionalJSON is DecodeJSON for a body that may be left out: with
// no body at all, v stays as it is.
func decodeOptionalJSON(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return DecodeJSON(r, v)
}

// DecodeJSON reads the request body into v: JSON only, one value, no unknown
// fields, within the route's size limit. Each failure becomes the matching
// problem: 415 wrong media type, 400 malformed, 413 too large, 422 unknown
// field or wrong type (naming the field), then v's own validation.
func DecodeJSON(r *http.Request, v any) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return gathering.Errorf(gathering.EUNSUPPORTED, "The request body must be JSON (Content-Type: application/json).")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			return decodeError(err)
		}
		return gathering.Errorf(gathering.EMALFORMED, "The request body must hold exactly one JSON value.")
	}
	if val, ok := v.(validator); ok {
		return val.Validate()
	}
	return nil
}

func decodeError(err error) error {
	if tooLarge, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return gathering.Errorf(gathering.ETOOLARGE, "The request body exceeds the limit of %d bytes.", tooLarge.Limit)
	}
	if syntax, ok := errors.AsType[*json.SyntaxError](err); ok {
		return gathering.Errorf(gathering.EMALFORMED, "Malformed JSON at byte %d: %v.", syntax.Offset, syntax)
	}
	if typ, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		field := cmp.Or(typ.Field, "(body)")
		return gathering.Invalid("The request body has a value of the wrong type.",
			gathering.FieldError{Field: field, Message: fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)})
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return gathering.Invalid("The request body has an unknown field.",
			gathering.FieldError{Field: strings.Trim(name, `"`), Message: "unknown field"})
	}
	switch {
	case errors.Is(err, io.EOF):
		return gathering.Errorf(gathering.EMALFORMED, "The request body is empty; a JSON value is required.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return gathering.Errorf(gathering.EMALFORMED, "Malformed JSON: the body ends too early.")
	}
	return gathering.Errorf(gathering.EMALFORMED, "The request body could not be read as JSON.")
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "bool":
		return "true or false"
	case kind == "string":
		return "a string"
	case kind == "slice", kind == "array":
		return "an array"
	default:
		return "an object"
	}
}
