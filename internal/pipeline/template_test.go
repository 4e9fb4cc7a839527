package pipeline

import (
	"encoding/json"
	"strings"
	"testing"
)

// data is template data as an engine builds it from decoded outputs.
func data() map[string]any {
	return Env{
		Nodes: map[string]NodeState{
			"fetch": {Status: "completed", Output: map[string]any{
				"status": 200.0, "ok": true, "body": "<p>hi</p>", "items": []any{"x", map[string]any{"n": 1.5}}, "none": nil,
			}},
			"count": {Output: 3.0},
		},
		Trigger: map[string]any{"who": "Ada", "ids": []any{1.0, 2.0}},
	}.TemplateData()
}

func TestRender(t *testing.T) {
	t.Parallel()
	tests := []struct{ template, want string }{
		{"no references", "no references"},
		{"", ""},
		{"Hi {{ trigger.who }}!", "Hi Ada!"},
		{"{{trigger.who}}{{trigger.who}}", "AdaAda"},
		{"status {{ nodes.fetch.output.status }}, ok {{ nodes.fetch.output.ok }}", "status 200, ok true"},
		{"{{ nodes.fetch.output.body }}", "<p>hi</p>"},
		{"item {{ nodes.fetch.output.items.1.n }} of {{ nodes.fetch.output.items }}", `item 1.5 of ["x",{"n":1.5}]`},
		{"ids {{ trigger.ids }}, none {{ nodes.fetch.output.none }}", "ids [1,2], none null"},
		{"{{ nodes.count.output }} } {", "3 } {"},
	}
	for _, tt := range tests {
		got, err := Render(tt.template, data())
		if err != nil || got != tt.want {
			t.Errorf("Render(%q) = %q, %v; want %q", tt.template, got, err, tt.want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ template, want string }{
		{"{{ nodes.fetch.output.missing }}", `nothing at "nodes.fetch.output.missing"`},
		{"{{ nodes.fetch.output.items.2 }}", `nothing at "nodes.fetch.output.items.2"`},
		{"{{ nodes.fetch.output.items.-1 }}", `nothing at "nodes.fetch.output.items.-1"`},
		{"{{ nodes.fetch.output.status.x }}", `nothing at "nodes.fetch.output.status.x"`},
		{"{{ nodes.gone.output }}", `nothing at "nodes.gone.output"`},
		{"a {{ trigger.who", `a "{{" is not closed by "}}"`},
		{"{{ }}", "is not a reference"},
		{"{{ trigger who }}", "is not a reference"},
		{"{{ trigger..who }}", "has an empty key"},
	}
	for _, tt := range tests {
		if got, err := Render(tt.template, data()); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Render(%q) = %q, %v; want an error with %q", tt.template, got, err, tt.want)
		}
	}
}

func TestRenderJSON(t *testing.T) {
	t.Parallel()
	raw := `{"text": "Hello {{ trigger.who }}", "n": "{{ nodes.fetch.output.status }}", "flag": "{{nodes.fetch.output.ok}}",
		"list": ["{{ nodes.fetch.output.items }}", 7, null, "{{ nodes.fetch.output.none }}"],
		"obj": {"whole": "{{ trigger }}", "html": "{{ nodes.fetch.output.body }} & more", "big": 12345678901234567890},
		"{{ trigger.who }}": "keys stay"}`
	got, err := RenderJSON(json.RawMessage(raw), data())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"flag":true,"list":[["x",{"n":1.5}],7,null,null],"n":200,` +
		`"obj":{"big":12345678901234567890,"html":"<p>hi</p> & more","whole":{"ids":[1,2],"who":"Ada"}},` +
		`"text":"Hello Ada","{{ trigger.who }}":"keys stay"}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestRenderJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{`{"a": {"b": ["ok", "{{ trigger.nope }}"]}}`, `/a/b/1: nothing at "trigger.nope"`},
		{`"{{ trigger.nope }}"`, `nothing at "trigger.nope"`},
		{`{"a": "{{ trigger"}`, `/a: a "{{" is not closed`},
		{`{"a": `, "not valid JSON"},
	}
	for _, tt := range tests {
		if got, err := RenderJSON(json.RawMessage(tt.raw), data()); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("RenderJSON(%s) = %s, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
}
