package pipeline

import (
	"slices"
	"testing"
)

func TestGraph(t *testing.T) {
	t.Parallel()
	g := NewGraph(valid())
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	check("roots", g.Roots(), "start")
	check("predecessors of meet", g.Predecessors("meet"), "write", "ok")
	check("successors of fan", g.Successors("fan"), "write", "check")
	check("successors of meet", g.Successors("meet"), "notify", "api")
	check("predecessors of start", g.Predecessors("start"))
	check("ancestors of ok", g.Ancestors("ok"), "start", "fetch", "fan", "check", "wait")
	check("ancestors of api", g.Ancestors("api"), "start", "fetch", "fan", "write", "check", "wait", "ok", "meet")
	check("ancestors of start", g.Ancestors("start"))
	check("ancestors of an unknown node", g.Ancestors("ghost"))

	if out := g.Outgoing("meet"); len(out) != 2 || out[0].ID != "e9" || out[0].Condition == "" || out[1].ID != "e10" {
		t.Errorf("outgoing of meet %+v", out)
	}
	if in := g.Incoming("meet"); len(in) != 2 || in[0].ID != "e7" || in[1].ID != "e8" {
		t.Errorf("incoming of meet %+v", in)
	}
	if n, ok := g.Node("wait"); !ok || n.Type != TypeDelay {
		t.Errorf("node wait %+v %v", n, ok)
	}
	if _, ok := g.Node("ghost"); ok {
		t.Error("an unknown node exists")
	}
	if len(g.Nodes()) != 10 || g.Nodes()[0].ID != "start" {
		t.Errorf("nodes %+v", g.Nodes())
	}
}

func TestGraphOrdersByDefinitionAndDeduplicates(t *testing.T) {
	t.Parallel()
	d := Definition{
		Nodes: []Node{node("a", TypeJoin, ""), node("b", TypeJoin, ""), node("c", TypeJoin, ""), node("d", TypeJoin, "")},
		Edges: []Edge{
			edge("1", "c", "d"), edge("2", "a", "d"), edge("3", "b", "d"),
			{ID: "4", From: "a", To: "d", Condition: "true"}, // a second, conditional edge a → d
			edge("5", "d", "d"), edge("6", "ghost", "d"), // ignored
		},
	}
	g := NewGraph(d)
	if got := g.Predecessors("d"); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("predecessors %q", got)
	}
	if got := g.Incoming("d"); len(got) != 4 || got[0].ID != "1" || got[3].ID != "4" {
		t.Errorf("incoming %+v", got)
	}
	if got := g.Roots(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("roots %q", got)
	}
	if c := g.cycle(); c != nil {
		t.Errorf("cycle %q", c)
	}
	if ps := Validate(Definition{Nodes: d.Nodes, Edges: d.Edges[:4]}, Refs{}); ps != nil {
		t.Errorf("two edges between the same nodes are valid, yet:\n%s", dump(ps))
	}
}

func TestGraphAncestorsOnACycle(t *testing.T) {
	t.Parallel()
	g := NewGraph(chain("r", "a", "b", "a"))
	if got := g.Ancestors("b"); !slices.Equal(got, []string{"r", "a"}) {
		t.Errorf("ancestors %q", got)
	}
	if got := g.Roots(); !slices.Equal(got, []string{"r"}) {
		t.Errorf("roots %q", got)
	}
}
