package openapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// generate returns the JSON of v's schema and of every component schema.
func generate(t *testing.T, v any) (string, map[string]string) {
	t.Helper()
	g := newGenerator()
	s, err := g.schemaOf(v)
	if err != nil {
		t.Fatalf("schemaOf(%T): %v", v, err)
	}
	comps := map[string]*Schema{}
	if err := g.finalize(comps); err != nil {
		t.Fatalf("finalize: %v", err)
	}
	out := map[string]string{}
	for name, c := range comps {
		out[name] = mustJSON(t, c)
	}
	return mustJSON(t, s), out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type base struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created_at"`
}

type audit struct {
	By string `json:"by"`
}

type withEmbedded struct {
	base
	*audit
	Name string `json:"name"`
	ID   int    `json:"id"` // shadows base.ID
}

type node struct {
	Name     string  `json:"name"`
	Children []node  `json:"children"`
	Parent   *node   `json:"parent,omitempty"`
	Next     *node   `json:"next"`
	Tree     *forest `json:"tree,omitempty"`
}

type forest struct {
	Roots []*node `json:"roots"`
}

type tagged struct {
	State    string        `json:"state" enum:"queued,running,done" doc:"Where the run is."`
	Priority int           `json:"priority" enum:"1,2,3"`
	Ratio    float64       `json:"ratio,omitempty" enum:"0.5,1"`
	Flag     bool          `json:"flag,omitempty" enum:"true"`
	Home     string        `json:"home,omitempty" format:"uri" doc:"Home page."`
	Scopes   []string      `json:"scopes,omitempty" enum:"read,write"`
	Timeout  time.Duration `json:"timeout" doc:"How long to wait."`
	Owner    *base         `json:"owner,omitempty" doc:"Who owns it."`
}

type textish struct{}

func (textish) MarshalText() ([]byte, error) { return nil, nil }

type jsonish struct{}

func (jsonish) MarshalJSON() ([]byte, error) { return []byte("1"), nil }

type page[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

func TestSchemaKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"string", "", `{"type":"string"}`},
		{"bool", false, `{"type":"boolean"}`},
		{"int", 0, `{"type":"integer","format":"int64"}`},
		{"int8", int8(0), `{"type":"integer","format":"int32"}`},
		{"int32", int32(0), `{"type":"integer","format":"int32"}`},
		{"int64", int64(0), `{"type":"integer","format":"int64"}`},
		{"uint8", uint8(0), `{"type":"integer","format":"int32","minimum":0}`},
		{"uint64", uint64(0), `{"type":"integer","format":"int64","minimum":0}`},
		{"float32", float32(0), `{"type":"number","format":"float"}`},
		{"float64", 0.0, `{"type":"number","format":"double"}`},
		{"time", time.Time{}, `{"type":"string","format":"date-time"}`},
		{"duration", time.Duration(0), `{"type":"integer","format":"int64","description":"Duration in nanoseconds."}`},
		{"bytes", []byte(nil), `{"type":"string","contentEncoding":"base64"}`},
		{"byte array", [4]byte{}, `{"type":"array","items":{"type":"integer","format":"int32","minimum":0}}`},
		{"raw message", json.RawMessage(nil), `{}`},
		{"json marshaler", jsonish{}, `{}`},
		{"text marshaler", textish{}, `{"type":"string"}`},
		{"nil slice", []string(nil), `{"type":"array","items":{"type":"string"}}`},
		{"array", [2]int{}, `{"type":"array","items":{"type":"integer","format":"int64"}}`},
		{"map", map[string]bool{}, `{"type":"object","additionalProperties":{"type":"boolean"}}`},
		{"int-keyed map", map[int]string{}, `{"type":"object","additionalProperties":{"type":"string"}}`},
		{"map of any", map[string]any{}, `{"type":"object","additionalProperties":{}}`},
		{"pointer", new(string), `{"type":"string"}`},
		{"pointer to time", new(time.Time), `{"type":"string","format":"date-time"}`},
		{"pointer to pointer", new(*int32), `{"type":"integer","format":"int32"}`},
		{"slice of pointers", []*int{}, `{"type":"array","items":{"type":"integer","format":"int64"}}`},
		{"named struct", base{}, `{"$ref":"#/components/schemas/base"}`},
		{"pointer to struct", &base{}, `{"$ref":"#/components/schemas/base"}`},
		{"slice of structs", []base{}, `{"type":"array","items":{"$ref":"#/components/schemas/base"}}`},
		{"anonymous struct", struct {
			A string `json:"a"`
		}{}, `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}`},
		{"empty struct", struct{}{}, `{"type":"object","additionalProperties":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, _ := generate(t, tt.v); got != tt.want {
				t.Errorf("schema of %T\n got %s\nwant %s", tt.v, got, tt.want)
			}
		})
	}
}

func TestSchemaFields(t *testing.T) {
	t.Parallel()
	type fields struct {
		Plain   string    `json:"plain"`
		NoTag   string    //
		Omit    string    `json:"omit,omitempty"`
		Zero    time.Time `json:"zero,omitzero"`
		Skipped string    `json:"-"`
		//lint:ignore SA5008 a field named "-" is what this case tests
		Dash       string            `json:"-,"`
		unexported string            //
		Ptr        *string           `json:"ptr"`
		PtrOmit    *int              `json:"ptr_omit,omitempty"`
		Quoted     int64             `json:"quoted,string"`
		Any        any               `json:"any"`
		Raw        json.RawMessage   `json:"raw,omitempty"`
		Labels     map[string]string `json:"labels"`
	}
	want := map[string]string{
		"plain":    `{"type":"string"}`,
		"NoTag":    `{"type":"string"}`,
		"omit":     `{"type":"string"}`,
		"zero":     `{"type":"string","format":"date-time"}`,
		"-":        `{"type":"string"}`,
		"ptr":      `{"anyOf":[{"type":"string"},{"type":"null"}]}`,
		"ptr_omit": `{"type":"integer","format":"int64"}`,
		"quoted":   `{"type":"string"}`,
		"any":      `{}`,
		"raw":      `{}`,
		"labels":   `{"type":"object","additionalProperties":{"type":"string"}}`,
	}
	_ = fields{unexported: ""}
	s := objectSchema(t, fields{})
	assertProperties(t, s, want)
	assertRequired(t, s, "plain", "NoTag", "-", "quoted", "any", "labels")
}

// objectSchema returns the schema of the struct v, inline or by reference.
func objectSchema(t *testing.T, v any) *Schema {
	t.Helper()
	g := newGenerator()
	s, err := g.schemaOf(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.finalize(map[string]*Schema{}); err != nil {
		t.Fatal(err)
	}
	if n, ok := g.named[reflect.TypeOf(v)]; ok {
		return n.schema
	}
	return s
}

func assertProperties(t *testing.T, s *Schema, want map[string]string) {
	t.Helper()
	if len(s.Properties) != len(want) {
		t.Errorf("properties = %v, want %d of them", keys(s.Properties), len(want))
	}
	for name, w := range want {
		p, ok := s.Properties[name]
		if !ok {
			t.Errorf("property %q missing (have %v)", name, keys(s.Properties))
			continue
		}
		if got := mustJSON(t, p); got != w {
			t.Errorf("property %q\n got %s\nwant %s", name, got, w)
		}
	}
}

func assertRequired(t *testing.T, s *Schema, want ...string) {
	t.Helper()
	if !reflect.DeepEqual(s.Required, want) {
		t.Errorf("required = %q, want %q", s.Required, want)
	}
}

func keys[V any](m map[string]V) []string { return sortedKeys(m) }

func TestSchemaEmbedded(t *testing.T) {
	t.Parallel()
	s := objectSchema(t, withEmbedded{})
	assertProperties(t, s, map[string]string{
		"id":         `{"type":"integer","format":"int64"}`,
		"created_at": `{"type":"string","format":"date-time"}`,
		"by":         `{"type":"string"}`,
		"name":       `{"type":"string"}`,
	})
	// by comes through a pointer: absent when the pointer is nil.
	assertRequired(t, s, "created_at", "name", "id")
	if s.AdditionalProperties != false {
		t.Errorf("additionalProperties = %v, want false", s.AdditionalProperties)
	}
}

func TestSchemaEmbeddedConflict(t *testing.T) {
	t.Parallel()
	type a struct{ X, Y string }
	type b struct {
		X string
		Y string `json:"Y"`
	}
	type both struct {
		a
		b
	}
	// X is ambiguous at equal depth and dropped, as encoding/json does; the
	// tagged Y wins.
	s := objectSchema(t, both{})
	if got := keys(s.Properties); !reflect.DeepEqual(got, []string{"Y"}) {
		t.Errorf("properties = %v, want [Y]", got)
	}
	b2, _ := json.Marshal(both{})
	if string(b2) != `{"Y":""}` {
		t.Fatalf("encoding/json disagrees: %s", b2)
	}
}

func TestSchemaTags(t *testing.T) {
	t.Parallel()
	s := objectSchema(t, tagged{})
	assertProperties(t, s, map[string]string{
		"state":    `{"type":"string","description":"Where the run is.","enum":["queued","running","done"]}`,
		"priority": `{"type":"integer","format":"int64","enum":[1,2,3]}`,
		"ratio":    `{"type":"number","format":"double","enum":[0.5,1]}`,
		"flag":     `{"type":"boolean","enum":[true]}`,
		"home":     `{"type":"string","format":"uri","description":"Home page."}`,
		"scopes":   `{"type":"array","items":{"type":"string","enum":["read","write"]}}`,
		"timeout":  `{"type":"integer","format":"int64","description":"How long to wait. Duration in nanoseconds."}`,
		"owner":    `{"$ref":"#/components/schemas/base","description":"Who owns it."}`,
	})
}

func TestSchemaBadEnum(t *testing.T) {
	t.Parallel()
	type bad struct {
		N int `json:"n" enum:"1,two"`
	}
	_, err := newGenerator().schemaOf(bad{})
	if err == nil || !strings.Contains(err.Error(), `enum tag "1,two"`) {
		t.Fatalf("err = %v, want an enum tag error", err)
	}
}

func TestSchemaUnsupported(t *testing.T) {
	t.Parallel()
	tests := []any{
		make(chan int),
		func() {},
		complex(1, 2),
		map[[2]int]string{},
		struct {
			F func() `json:"f"`
		}{},
	}
	for _, v := range tests {
		if _, err := newGenerator().schemaOf(v); err == nil {
			t.Errorf("schemaOf(%T) succeeded, want an error", v)
		}
	}
}

func TestSchemaRecursive(t *testing.T) {
	t.Parallel()
	root, comps := generate(t, node{})
	if root != `{"$ref":"#/components/schemas/node"}` {
		t.Errorf("root = %s", root)
	}
	want := `{"type":"object","properties":{` +
		`"children":{"type":"array","items":{"$ref":"#/components/schemas/node"}},` +
		`"name":{"type":"string"},` +
		`"next":{"anyOf":[{"$ref":"#/components/schemas/node"},{"type":"null"}]},` +
		`"parent":{"$ref":"#/components/schemas/node"},` +
		`"tree":{"$ref":"#/components/schemas/forest"}},` +
		`"required":["name","children"],"additionalProperties":false}`
	if comps["node"] != want {
		t.Errorf("node\n got %s\nwant %s", comps["node"], want)
	}
	if comps["forest"] != `{"type":"object","properties":{"roots":{"type":"array","items":{"$ref":"#/components/schemas/node"}}},"required":["roots"],"additionalProperties":false}` {
		t.Errorf("forest = %s", comps["forest"])
	}
}

// Cookie shares its name with net/http.Cookie.
type Cookie struct {
	Flavor string `json:"flavor"`
}

// Problem shares its name with the hand-written problem schema.
type Problem struct {
	Code string `json:"code"`
}

func TestSchemaNameCollision(t *testing.T) {
	t.Parallel()
	_, comps := generate(t, struct {
		Mine   Cookie      `json:"mine"`
		Theirs http.Cookie `json:"theirs"`
	}{})
	if _, ok := comps["Cookie"]; ok {
		t.Errorf("colliding types merged under Cookie: %v", keys(comps))
	}
	if !strings.Contains(comps["openapi.Cookie"], "flavor") || !strings.Contains(comps["http.Cookie"], "MaxAge") {
		t.Errorf("components = %v, want openapi.Cookie and http.Cookie", keys(comps))
	}
}

func TestSchemaNameCollisionReserved(t *testing.T) {
	t.Parallel()
	doc, err := Build(Info{Title: "t", Version: "1"}, []Operation{
		{Method: "GET", Path: "/p", Responses: []Response{{Status: 200, Body: Problem{}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.PathItems["/p"]["get"].Responses["200"].Content["application/json"].Schema.Ref; got != "#/components/schemas/openapi.Problem" {
		t.Errorf("ref = %q, want the qualified name", got)
	}
	if doc.Components.Schemas[ProblemSchemaName].Properties["request_id"] == nil {
		t.Error("the hand-written Problem schema was replaced")
	}
}

func TestSchemaNameCollisionUnresolvable(t *testing.T) {
	t.Parallel()
	type item struct{ A string }
	first := reflect.TypeOf(item{})
	second := func() any {
		type item struct{ B string }
		return item{}
	}()
	if reflect.TypeOf(second) == first {
		t.Fatal("test types are equal")
	}
	g := newGenerator()
	for _, v := range []any{item{}, second} {
		if _, err := g.schemaOf(v); err != nil {
			t.Fatal(err)
		}
	}
	err := g.finalize(map[string]*Schema{})
	if err == nil || !strings.Contains(err.Error(), "openapi.item") {
		t.Fatalf("err = %v, want a name collision", err)
	}
}

func TestBaseNameGeneric(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    any
		want string
	}{
		{page[base]{}, "pageBase"},
		{page[*http.Cookie]{}, "pageCookie"},
		{page[map[string]int]{}, "pageMapStringInt"},
		{base{}, "base"},
	}
	for _, tt := range tests {
		if got := baseName(reflect.TypeOf(tt.v)); got != tt.want {
			t.Errorf("baseName(%T) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// TestSchemaAgreesWithEncodingJSON checks the generator against the encoder:
// every key encoding/json writes is a property, and every required property
// is written even for a zero value.
func TestSchemaAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	values := []any{
		withEmbedded{audit: &audit{}},
		withEmbedded{},
		tagged{},
		node{},
		page[base]{},
		http.Cookie{},
	}
	for _, v := range values {
		s := objectSchema(t, v)
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		for k := range got {
			if _, ok := s.Properties[k]; !ok {
				t.Errorf("%T: encoded key %q is not a property", v, k)
			}
		}
		for _, k := range s.Required {
			if _, ok := got[k]; !ok {
				t.Errorf("%T: required %q is missing from %s", v, k, b)
			}
		}
	}
}
