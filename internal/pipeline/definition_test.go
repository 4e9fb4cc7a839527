package pipeline

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestSettingsDefaults(t *testing.T) {
	t.Parallel()
	got := Settings{}.WithDefaults()
	want := Settings{TimeoutSeconds: 3600, MaxParallel: 4, Retry: RetryPolicy{
		MaxAttempts: 3, InitialSeconds: 1, Multiplier: 2, MaxSeconds: 60, Jitter: 0.2,
	}}
	if got != want {
		t.Fatalf("defaults %+v, want %+v", got, want)
	}
	set := Settings{TimeoutSeconds: 10, MaxParallel: 1, Retry: RetryPolicy{Jitter: 0.5}}.WithDefaults()
	if set.TimeoutSeconds != 10 || set.MaxParallel != 1 || set.Retry.Jitter != 0.5 || set.Retry.MaxAttempts != 3 {
		t.Fatalf("set values lost: %+v", set)
	}
}

func TestNodePolicyOverridesFieldByField(t *testing.T) {
	t.Parallel()
	settings := Settings{Retry: RetryPolicy{MaxAttempts: 5, InitialSeconds: 3}}
	if got := (Node{}).Policy(settings); got != (RetryPolicy{5, 3, 2, 60, 0.2}) {
		t.Fatalf("without a node policy: %+v", got)
	}
	n := Node{Retry: &RetryPolicy{MaxAttempts: 1, MaxSeconds: 10}}
	if got := n.Policy(settings); got != (RetryPolicy{1, 3, 2, 10, 0.2}) {
		t.Fatalf("with a node policy: %+v", got)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	nodes := `[{"id": "a", "type": "agent", "name": "Writer", "config": {"agent_id": 1, "task": "x"},
		"retry": {"max_attempts": 2}, "timeout_seconds": 30, "on_error": "default", "default": {"text": ""}},
		{"id": "b", "type": "join"}]`
	edges := `[{"id": "e", "from": "a", "to": "b", "condition": "true"}]`
	settings := `{"timeout_seconds": 60, "max_parallel": 2, "retry": {"jitter": 0.1}}`
	d, ps := Parse(json.RawMessage(nodes), json.RawMessage(edges), json.RawMessage(settings))
	if ps != nil {
		t.Fatalf("problems:\n%s", dump(ps))
	}
	want := Definition{
		Nodes: []Node{{ID: "a", Type: TypeAgent, Name: "Writer", Config: json.RawMessage(`{"agent_id": 1, "task": "x"}`),
			Retry: &RetryPolicy{MaxAttempts: 2}, TimeoutSeconds: intp(30), OnError: OnErrorDefault, Default: json.RawMessage(`{"text": ""}`)},
			{ID: "b", Type: TypeJoin}},
		Edges:    []Edge{{ID: "e", From: "a", To: "b", Condition: "true"}},
		Settings: Settings{TimeoutSeconds: 60, MaxParallel: 2, Retry: RetryPolicy{Jitter: 0.1}},
	}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("parsed %+v\nwant %+v", d, want)
	}
	if ps := Validate(d, Refs{}); ps != nil {
		t.Fatalf("problems:\n%s", dump(ps))
	}
}

func TestParseEmptyParts(t *testing.T) {
	t.Parallel()
	d, ps := Parse(nil, json.RawMessage("null"), json.RawMessage(" "))
	if ps != nil || d.Nodes != nil || d.Edges != nil || d.Settings != (Settings{}) {
		t.Fatalf("%+v %v", d, ps)
	}
	expect(t, Validate(d, Refs{}), want{field: "nodes", msg: "at least one node"})
}

func TestParseReportsMalformedParts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                   string
		nodes, edges, settings string
		want                   []want
	}{
		{"not JSON", `[{"id": "a"`, `{`, `[] x`, []want{
			{field: "nodes", msg: "is not valid JSON"},
			{field: "edges", msg: "is not valid JSON"},
			{field: "settings", msg: "is not valid JSON"}}},
		{"not arrays", `{"id": "a"}`, `"x"`, `1`, []want{
			{field: "nodes", msg: "must be an array"},
			{field: "edges", msg: "must be an array"},
			{field: "settings", msg: "must be an object"}}},
		{"elements of the wrong type", `[1, {"id": "a", "type": 2}]`, `[{"id": "e", "from": "a", "to": ["b"]}]`, `{}`, []want{
			{field: "nodes/0", msg: "must be an object"},
			{node: "a", field: "type", msg: "must be a string"},
			{edge: "e", field: "to", msg: "must be a string"}}},
		{"nested fields of the wrong type", `[{"id": "a", "retry": {"max_attempts": 1.5}}, {"timeout_seconds": "5"}]`, `[]`,
			`{"retry": {"multiplier": "x"}}`, []want{
				{node: "a", field: "retry/max_attempts", msg: "must be an integer"},
				{field: "nodes/1/timeout_seconds", msg: "must be an integer"},
				{field: "settings/retry/multiplier", msg: "must be a number"}}},
		{"unknown fields", `[{"id": "a", "type": "join", "confg": {}}]`, `[{"id": "e", "form": "a"}]`, `{"max_paralel": 3}`, []want{
			{node: "a", msg: `has an unknown field "confg"`},
			{edge: "e", msg: `has an unknown field "form"`},
			{field: "settings", msg: `has an unknown field "max_paralel"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ps := Parse(json.RawMessage(tt.nodes), json.RawMessage(tt.edges), json.RawMessage(tt.settings))
			expect(t, ps, tt.want...)
		})
	}
}

func TestParseKeepsWhatDecodes(t *testing.T) {
	t.Parallel()
	d, ps := Parse(json.RawMessage(`[{"id": "a", "type": "join", "name": 5}, {"id": "b", "type": "join"}]`),
		json.RawMessage(`[{"id": "e", "from": "a", "to": "b"}]`), nil)
	expect(t, ps, want{node: "a", field: "name", msg: "must be a string"})
	if len(d.Nodes) != 2 || d.Nodes[0].Type != TypeJoin || len(d.Edges) != 1 {
		t.Fatalf("%+v", d)
	}
	if ps := Validate(d, Refs{}); ps != nil {
		t.Fatalf("the rest is valid, yet:\n%s", dump(ps))
	}
}
