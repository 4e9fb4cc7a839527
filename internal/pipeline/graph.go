package pipeline

import (
	"cmp"
	"slices"
)

// Graph is the shape of a definition: who precedes and follows whom. It is
// meant for a valid definition; built from an invalid one it keeps the
// first node of each id and ignores self-loops and edges to unknown nodes.
// Lists of node ids are in definition order. A Graph is read-only.
type Graph struct {
	nodes []Node
	index map[string]int    // node id → position in nodes
	in    map[string][]Edge // incoming edges, in definition order
	out   map[string][]Edge // outgoing edges, in definition order
	preds map[string][]string
	succs map[string][]string
}

// NewGraph builds the graph of d.
func NewGraph(d Definition) *Graph {
	g := &Graph{
		index: map[string]int{},
		in:    map[string][]Edge{},
		out:   map[string][]Edge{},
		preds: map[string][]string{},
		succs: map[string][]string{},
	}
	for _, n := range d.Nodes {
		if _, dup := g.index[n.ID]; !dup {
			g.index[n.ID] = len(g.nodes)
			g.nodes = append(g.nodes, n)
		}
	}
	for _, e := range d.Edges {
		g.addEdge(e)
	}
	for id := range g.index {
		g.preds[id] = g.sorted(g.preds[id])
		g.succs[id] = g.sorted(g.succs[id])
	}
	return g
}

// addEdge records e unless it is a self-loop or names an unknown node.
func (g *Graph) addEdge(e Edge) {
	_, from := g.index[e.From]
	_, to := g.index[e.To]
	if !from || !to || e.From == e.To {
		return
	}
	g.out[e.From] = append(g.out[e.From], e)
	g.in[e.To] = append(g.in[e.To], e)
	g.succs[e.From] = append(g.succs[e.From], e.To)
	g.preds[e.To] = append(g.preds[e.To], e.From)
}

// sorted returns ids without duplicates, in definition order.
func (g *Graph) sorted(ids []string) []string {
	slices.SortFunc(ids, func(a, b string) int { return cmp.Compare(g.index[a], g.index[b]) })
	return slices.Compact(ids)
}

// Nodes returns the nodes in definition order.
func (g *Graph) Nodes() []Node { return g.nodes }

// Node returns the node with the id.
func (g *Graph) Node(id string) (Node, bool) {
	i, ok := g.index[id]
	if !ok {
		return Node{}, false
	}
	return g.nodes[i], true
}

// Predecessors returns the nodes with an edge to id.
func (g *Graph) Predecessors(id string) []string { return g.preds[id] }

// Successors returns the nodes id has an edge to.
func (g *Graph) Successors(id string) []string { return g.succs[id] }

// Incoming returns the edges into id, in definition order.
func (g *Graph) Incoming(id string) []Edge { return g.in[id] }

// Outgoing returns the edges out of id, in definition order.
func (g *Graph) Outgoing(id string) []Edge { return g.out[id] }

// Roots returns the nodes without predecessors.
func (g *Graph) Roots() []string {
	var out []string
	for _, n := range g.nodes {
		if len(g.preds[n.ID]) == 0 {
			out = append(out, n.ID)
		}
	}
	return out
}

// Ancestors returns the nodes from which a path of edges leads to id, id
// itself excluded.
func (g *Graph) Ancestors(id string) []string {
	seen := g.ancestors(id)
	var out []string
	for _, n := range g.nodes {
		if seen[n.ID] && n.ID != id {
			out = append(out, n.ID)
		}
	}
	return out
}

// ancestors returns the set of nodes from which a path leads to id
// (including id when it lies on a cycle).
func (g *Graph) ancestors(id string) map[string]bool {
	seen := map[string]bool{}
	stack := slices.Clone(g.preds[id])
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !seen[n] {
			seen[n] = true
			stack = append(stack, g.preds[n]...)
		}
	}
	return seen
}

// cycle returns one cycle as a path that ends where it starts (a, b, c, a),
// or nil. The search visits nodes and successors in definition order, so
// the answer is deterministic; it finds cycles no root leads to.
func (g *Graph) cycle() []string {
	state := make(map[string]int, len(g.nodes)) // 0 new, 1 on the path, 2 done
	var path []string
	var visit func(id string) []string
	visit = func(id string) []string {
		state[id] = 1
		path = append(path, id)
		for _, s := range g.succs[id] {
			switch state[s] {
			case 1:
				start := slices.Index(path, s)
				return append(slices.Clone(path[start:]), s)
			case 0:
				if c := visit(s); c != nil {
					return c
				}
			}
		}
		state[id] = 2
		path = path[:len(path)-1]
		return nil
	}
	for _, n := range g.nodes {
		if state[n.ID] == 0 {
			if c := visit(n.ID); c != nil {
				return c
			}
		}
	}
	return nil
}
