package pipeline

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestValidDefinitionPasses(t *testing.T) {
	t.Parallel()
	d := valid()
	if ps := Validate(d, testRefs); ps != nil {
		t.Fatalf("problems:\n%s", dump(ps))
	}
	// Without lookups, and with every setting at its default.
	d.Settings = Settings{}
	if ps := Validate(d, Refs{}); ps != nil {
		t.Fatalf("problems:\n%s", dump(ps))
	}
}

// nodeAt returns a pointer to the node id of d.
func nodeAt(d *Definition, id string) *Node {
	for i := range d.Nodes {
		if d.Nodes[i].ID == id {
			return &d.Nodes[i]
		}
	}
	panic("no node " + id)
}

func intp(i int) *int { return &i }

func TestValidateReportsEachProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(d *Definition)
		want   []want
	}{
		{"no nodes", func(d *Definition) { d.Nodes, d.Edges = nil, nil },
			[]want{{field: "nodes", msg: "at least one node"}}},
		{"duplicate node id", func(d *Definition) { nodeAt(d, "meet").ID = "fan" },
			// The edges into and out of the renamed node now name an
			// unknown node; the copy of fan keeps no edges.
			[]want{{node: "fan", field: "id", msg: `another node has the id "fan"`},
				{edge: "e7", field: "to", msg: `unknown node "meet"`},
				{edge: "e8", field: "to", msg: `unknown node "meet"`},
				{edge: "e9", field: "from", msg: `unknown node "meet"`},
				{edge: "e10", field: "from", msg: `unknown node "meet"`}}},
		{"bad node id", func(d *Definition) { d.Nodes = append(d.Nodes, node("a b", TypeJoin, "")) },
			[]want{{node: "a b", field: "id", msg: "letters, digits"}}},
		{"missing node id", func(d *Definition) { d.Nodes = append(d.Nodes, node("", TypeJoin, "")) },
			[]want{{field: "nodes/10/id", msg: "is required"}}},
		{"unknown type", func(d *Definition) { nodeAt(d, "meet").Type = "loop" },
			[]want{{node: "meet", field: "type", msg: `unknown node type "loop"; the types are action, agent, approval`}}},
		{"missing type", func(d *Definition) { nodeAt(d, "meet").Type = "" },
			[]want{{node: "meet", field: "type", msg: "is required"}}},
		{"config field missing", func(d *Definition) { nodeAt(d, "write").Config = json.RawMessage(`{"agent_id": 1}`) },
			[]want{{node: "write", field: "config/task", msg: "is required"}}},
		{"config field of the wrong type", func(d *Definition) { nodeAt(d, "wait").Config = json.RawMessage(`{"seconds": "5"}`) },
			[]want{{node: "wait", field: "config/seconds", msg: "got string, want number"}}},
		{"config field out of range", func(d *Definition) { nodeAt(d, "wait").Config = json.RawMessage(`{"seconds": 0}`) },
			[]want{{node: "wait", field: "config/seconds", msg: "exclusiveMinimum"}}},
		{"config extra field", func(d *Definition) { nodeAt(d, "meet").Config = json.RawMessage(`{"x": 1}`) },
			[]want{{node: "meet", field: "config/x", msg: "is not allowed"}}},
		{"config not an object", func(d *Definition) { nodeAt(d, "ok").Config = json.RawMessage(`[]`) },
			[]want{{node: "ok", field: "config", msg: "want object"}}},
		{"config not JSON", func(d *Definition) { nodeAt(d, "ok").Config = json.RawMessage(`{`) },
			[]want{{node: "ok", field: "config", msg: "is not valid JSON"}}},
		{"missing config", func(d *Definition) { nodeAt(d, "check").Config = nil },
			[]want{{node: "check", field: "config/expression", msg: "is required"}}},
		{"action without its fields", func(d *Definition) {
			nodeAt(d, "api").Config = json.RawMessage(`{"action": "call_api", "url": "https://x"}`)
		},
			[]want{{node: "api", field: "config/method", msg: "is required"}}},
		{"action with the other action's fields", func(d *Definition) {
			nodeAt(d, "notify").Config = json.RawMessage(`{"action": "send_notification", "url": "https://x", "method": "GET"}`)
		}, []want{{node: "notify", field: "config/method", msg: "is not allowed"}}},
		{"action with a wrong value", func(d *Definition) {
			nodeAt(d, "api").Config = json.RawMessage(`{"action": "call_api", "method": "FETCH", "url": "https://x", "headers": {"A": "b"}}`)
		}, []want{{node: "api", field: "config/method", msg: "value must be one of"}}},
		{"unknown action", func(d *Definition) { nodeAt(d, "api").Config = json.RawMessage(`{"action": "launch"}`) },
			[]want{{node: "api", field: "config/action", msg: "call_api"}}},
		{"retry out of range", func(d *Definition) { nodeAt(d, "api").Retry = &RetryPolicy{MaxAttempts: 50, Jitter: 2} },
			[]want{{node: "api", field: "retry/max_attempts", msg: "between 1 and 20"},
				{node: "api", field: "retry/jitter", msg: "between 0 and 1"}}},
		{"timeout out of range", func(d *Definition) { nodeAt(d, "api").TimeoutSeconds = intp(0) },
			[]want{{node: "api", field: "timeout_seconds", msg: "between 1 and 604800"}}},
		{"unknown on_error", func(d *Definition) { nodeAt(d, "api").OnError = "ignore" },
			[]want{{node: "api", field: "on_error", msg: `"fail", "continue" or "default"`}}},
		{"on_error default without default", func(d *Definition) { nodeAt(d, "api").OnError = OnErrorDefault },
			[]want{{node: "api", field: "default", msg: "is required"}}},
		{"name too long", func(d *Definition) { nodeAt(d, "api").Name = string(make([]rune, 201)) },
			[]want{{node: "api", field: "name", msg: "longer than 200"}}},
		{"duplicate edge id", func(d *Definition) { d.Edges = append(d.Edges, edge("e1", "start", "api")) },
			[]want{{edge: "e1", field: "id", msg: `another edge has the id "e1"`}}},
		{"missing edge id", func(d *Definition) { d.Edges = append(d.Edges, edge("", "start", "api")) },
			[]want{{field: "edges/10/id", msg: "is required"}}},
		{"edge to an unknown node", func(d *Definition) { d.Edges = append(d.Edges, edge("x", "ghost", "")) },
			[]want{{edge: "x", field: "from", msg: `unknown node "ghost"`}, {edge: "x", field: "to", msg: "is required"}}},
		{"self-loop", func(d *Definition) { d.Edges = append(d.Edges, edge("x", "api", "api")) },
			[]want{{edge: "x", field: "to", msg: `from node "api" to itself`}}},
		{"cycle", func(d *Definition) { d.Edges = append(d.Edges, edge("back", "meet", "fan")) },
			[]want{{node: "fan", msg: "the graph has a cycle: fan → write → meet → fan"}}},
		{"condition does not compile", func(d *Definition) {
			nodeAt(d, "check").Config = json.RawMessage(`{"expression": "nodes.fetch.output +"}`)
		},
			[]want{{node: "check", field: "config/expression", msg: "does not compile: unexpected token EOF"}}},
		{"condition not boolean", func(d *Definition) { nodeAt(d, "check").Config = json.RawMessage(`{"expression": "1 + 2"}`) },
			[]want{{node: "check", field: "config/expression", msg: "expected bool, but got int"}}},
		{"condition with an unknown name", func(d *Definition) { nodeAt(d, "check").Config = json.RawMessage(`{"expression": "env.x == 1"}`) },
			[]want{{node: "check", field: "config/expression", msg: "unknown name env"}}},
		{"condition naming a non-ancestor", func(d *Definition) {
			nodeAt(d, "check").Config = json.RawMessage(`{"expression": "nodes.write.status == 'completed'"}`)
		},
			[]want{{node: "check", field: "config/expression", msg: `names node "write", which is not an ancestor of node "check"`}}},
		{"edge condition does not compile", func(d *Definition) { d.Edges[9].Condition = "nodes.meet.status ==" },
			[]want{{edge: "e10", field: "condition", msg: "does not compile"}}},
		{"edge condition not boolean", func(d *Definition) { d.Edges[9].Condition = `"yes"` },
			[]want{{edge: "e10", field: "condition", msg: "expected bool, but got string"}}},
		{"edge condition naming a non-ancestor", func(d *Definition) { d.Edges[9].Condition = `nodes.notify.status == "completed"` },
			[]want{{edge: "e10", field: "condition", msg: `names node "notify", which is not an ancestor of the edge's source "meet"`}}},
		{"edge condition naming an unknown node", func(d *Definition) { d.Edges[9].Condition = `nodes["gone"].output == 1` },
			[]want{{edge: "e10", field: "condition", msg: `names the unknown node "gone"`}}},
		{"template naming an unknown node", func(d *Definition) {
			nodeAt(d, "write").Config = json.RawMessage(`{"agent_id": 1, "task": "Use {{ nodes.gone.output }}"}`)
		}, []want{{node: "write", field: "config/task", msg: `{{ nodes.gone.output }} names the unknown node "gone"`}}},
		{"template naming a non-ancestor", func(d *Definition) {
			nodeAt(d, "fetch").Config = json.RawMessage(`{"tool": "http.request", "input": {"url": "x", "body": {"a": ["{{nodes.write.output.text}}"]}}}`)
		}, []want{{node: "fetch", field: "config/input/body/a/0", msg: `names node "write", which is not an ancestor of node "fetch"`}}},
		{"template naming something else", func(d *Definition) {
			nodeAt(d, "write").Config = json.RawMessage(`{"agent_id": 1, "task": "{{ nodes.fetch.status }} {{ secrets.key }}"}`)
		}, []want{{node: "write", field: "config/task", msg: "{{ nodes.fetch.status }} must name nodes.<id>.output or trigger"},
			{node: "write", field: "config/task", msg: "{{ secrets.key }} must name"}}},
		{"template not closed", func(d *Definition) {
			nodeAt(d, "write").Config = json.RawMessage(`{"agent_id": 1, "task": "{{ trigger.x"}`)
		}, []want{{node: "write", field: "config/task", msg: "not closed"}}},
		{"unknown agent", func(d *Definition) { nodeAt(d, "write").Config = json.RawMessage(`{"agent_id": 2, "task": "x"}`) },
			[]want{{node: "write", field: "config/agent_id", msg: "agent 2 does not exist"}}},
		{"agent id with an exponent", func(d *Definition) { nodeAt(d, "write").Config = json.RawMessage(`{"agent_id": 1e0, "task": "x"}`) },
			[]want{{node: "write", field: "config/agent_id", msg: "plain digits"}}},
		{"unknown tool", func(d *Definition) { nodeAt(d, "fetch").Config = json.RawMessage(`{"tool": "calc.eval"}`) },
			[]want{{node: "fetch", field: "config/tool", msg: `tool "calc.eval" does not exist`}}},
		{"malformed tool name", func(d *Definition) { nodeAt(d, "fetch").Config = json.RawMessage(`{"tool": "Calc"}`) },
			[]want{{node: "fetch", field: "config/tool", msg: "does not match pattern"}}},
		{"two triggers", func(d *Definition) { d.Nodes = append(d.Nodes, node("again", TypeTrigger, "")) },
			[]want{{node: "again", field: "type", msg: "at most one trigger"}}},
		{"edge into the trigger", func(d *Definition) {
			d.Nodes = append(d.Nodes, node("before", TypeJoin, ""))
			d.Edges = append(d.Edges, edge("x", "before", "start"))
		},
			[]want{{edge: "x", field: "to", msg: "cannot have incoming edges"}}},
		{"settings out of range", func(d *Definition) {
			d.Settings = Settings{TimeoutSeconds: 604801, MaxParallel: 65, Retry: RetryPolicy{Multiplier: 0.5, InitialSeconds: -1}}
		}, []want{{field: "settings/timeout_seconds", msg: "between 1 and 604800"},
			{field: "settings/max_parallel", msg: "between 1 and 64"},
			{field: "settings/retry/initial_seconds", msg: "between"},
			{field: "settings/retry/multiplier", msg: "between 1 and 10"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := valid()
			tt.change(&d)
			expect(t, Validate(d, testRefs), tt.want...)
		})
	}
}

func TestValidateReportsSeveralProblemsAtOnce(t *testing.T) {
	t.Parallel()
	d := valid()
	nodeAt(&d, "write").Config = json.RawMessage(`{"agent_id": 0, "task": "", "model": "x"}`)
	nodeAt(&d, "wait").Type = "sleep"
	d.Edges = append(d.Edges, edge("e1", "api", "api"), edge("loop", "api", "fetch"))
	d.Settings.MaxParallel = -1
	expect(t, Validate(d, testRefs),
		want{field: "settings/max_parallel", msg: "between 1 and 64"},
		want{node: "write", field: "config/agent_id", msg: "minimum: got 0, want 1"},
		want{node: "write", field: "config/model", msg: "is not allowed"},
		want{node: "write", field: "config/task", msg: "minLength"},
		want{node: "wait", field: "type", msg: `unknown node type "sleep"`},
		want{edge: "e1", field: "id", msg: "another edge"},
		want{edge: "e1", field: "to", msg: "to itself"},
		want{node: "fetch", msg: "the graph has a cycle: fetch → fan → write → meet → api → fetch"},
	)
}

func TestValidateNamesTheCyclePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    Definition
		want string
	}{
		{"three nodes", chain("a", "b", "c", "a"), "a → b → c → a"},
		{"behind a root", chain("r", "a", "b", "c", "a"), "a → b → c → a"},
		{"no root leads to it", func() Definition {
			d := chain("r", "s")
			c := chain("x", "y", "z", "x")
			d.Nodes, d.Edges = append(d.Nodes, c.Nodes...), append(d.Edges, c.Edges...)
			return d
		}(), "x → y → z → x"},
		{"two nodes", chain("a", "b", "a"), "a → b → a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, Validate(tt.d, Refs{}), want{node: tt.want[:1], msg: "the graph has a cycle: " + tt.want})
		})
	}
}

func TestValidateLimits(t *testing.T) {
	t.Parallel()
	var d Definition
	for i := range MaxNodes {
		d.Nodes = append(d.Nodes, node(fmt.Sprintf("n%d", i), TypeJoin, ""))
		if i > 0 {
			d.Edges = append(d.Edges, edge(fmt.Sprintf("e%d", i), fmt.Sprintf("n%d", i-1), fmt.Sprintf("n%d", i)))
		}
	}
	if ps := Validate(d, Refs{}); ps != nil {
		t.Fatalf("%d nodes: %s", MaxNodes, dump(ps))
	}
	d.Nodes = append(d.Nodes, node("one-more", "bogus", ""))
	expect(t, Validate(d, Refs{}), want{field: "nodes", msg: "has 501 nodes; at most 500 are allowed"})

	d.Nodes = d.Nodes[:1]
	d.Edges = make([]Edge, MaxEdges+1)
	expect(t, Validate(d, Refs{}), want{field: "edges", msg: "has 2001 edges; at most 2000 are allowed"})
}

func TestProblemJSON(t *testing.T) {
	t.Parallel()
	out, err := json.Marshal([]Problem{{NodeID: "a", Field: "config/task", Message: "is required"}, {EdgeID: "e", Message: "m"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"node_id":"a","field":"config/task","message":"is required"},{"edge_id":"e","message":"m"}]`; string(out) != want {
		t.Fatalf("got %s, want %s", out, want)
	}
}
