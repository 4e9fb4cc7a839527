package pipeline

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func node(id, typ, config string) Node {
	return Node{ID: id, Type: typ, Config: json.RawMessage(config)}
}

func edge(id, from, to string) Edge { return Edge{ID: id, From: from, To: to} }

// chain builds nodes of type join named by ids and the edges between
// consecutive pairs of them ("a", "b", "c" → a→b, b→c).
func chain(ids ...string) Definition {
	var d Definition
	for i, id := range ids {
		if !slices.ContainsFunc(d.Nodes, func(n Node) bool { return n.ID == id }) {
			d.Nodes = append(d.Nodes, node(id, TypeJoin, ""))
		}
		if i > 0 {
			d.Edges = append(d.Edges, edge(ids[i-1]+"-"+id, ids[i-1], id))
		}
	}
	return d
}

// valid returns a definition with every node type that Validate accepts
// with testRefs.
func valid() Definition {
	return Definition{
		Nodes: []Node{
			node("start", TypeTrigger, `{}`),
			node("fetch", TypeTool, `{"tool": "http.request", "input": {"method": "GET", "url": "{{ trigger.url }}", "headers": {"X-Id": "{{ trigger.id }}"}}}`),
			node("fan", TypeParallel, ``),
			node("write", TypeAgent, `{"agent_id": 1, "task": "Summarize {{ nodes.fetch.output.body }} for {{trigger.who}}"}`),
			node("check", TypeCondition, `{"expression": "nodes.fetch.output.status == 200 && nodes[\"fan\"].status == \"completed\""}`),
			node("wait", TypeDelay, `{"seconds": 1.5}`),
			node("ok", TypeApproval, `{"expires_in_seconds": 3600, "message": "Ship it?"}`),
			node("meet", TypeJoin, `{}`),
			node("notify", TypeAction, `{"action": "send_notification", "url": "https://example.com/hook", "payload": {"done": true}, "secret": "0123456789abcdef", "event": "pipeline.done"}`),
			node("api", TypeAction, `{"action": "call_api", "method": "POST", "url": "https://example.com/api", "headers": {"A": "b"}, "body": [1], "timeout_seconds": 5}`),
		},
		Edges: []Edge{
			edge("e1", "start", "fetch"),
			edge("e2", "fetch", "fan"),
			edge("e3", "fan", "write"),
			edge("e4", "fan", "check"),
			edge("e5", "check", "wait"),
			edge("e6", "wait", "ok"),
			edge("e7", "write", "meet"),
			edge("e8", "ok", "meet"),
			{ID: "e9", From: "meet", To: "notify", Condition: `nodes.check.output == true || input.meet != nil`},
			edge("e10", "meet", "api"),
		},
		Settings: Settings{TimeoutSeconds: 600, MaxParallel: 8, Retry: RetryPolicy{MaxAttempts: 5}},
	}
}

var testRefs = Refs{
	Agent: func(id int64) bool { return id == 1 },
	Tool:  func(name string) bool { return name == "http.request" },
}

// want describes an expected problem; msg is a substring of its message.
type want struct{ node, edge, field, msg string }

// expect fails unless ps matches ws one for one, in order.
func expect(t *testing.T, ps []Problem, ws ...want) {
	t.Helper()
	ok := len(ps) == len(ws)
	for i := 0; ok && i < len(ps); i++ {
		p, w := ps[i], ws[i]
		ok = p.NodeID == w.node && p.EdgeID == w.edge && p.Field == w.field && strings.Contains(p.Message, w.msg)
	}
	if !ok {
		t.Errorf("problems:\n%s\nwant:\n%+v", dump(ps), ws)
	}
}

func dump(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  ")
		out, _ := json.Marshal(p)
		b.Write(out)
		b.WriteByte('\n')
	}
	return b.String()
}
