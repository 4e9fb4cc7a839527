package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gathering/gathering/internal/tool"
)

// The size limits of a definition.
const (
	MaxNodes = 500
	MaxEdges = 2000
)

// Problem is one thing wrong with a definition. NodeID or EdgeID names the
// node or edge at fault when it has an id, and Field is then a path inside
// it ("config/task", "retry/max_attempts", "condition"); otherwise Field is a
// path from the definition ("nodes/3/id", "settings/max_parallel").
type Problem struct {
	NodeID  string `json:"node_id,omitempty"`
	EdgeID  string `json:"edge_id,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Refs tells Validate which agents and tools exist. A nil func skips its
// check.
type Refs struct {
	Agent func(id int64) bool
	Tool  func(name string) bool
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Validate checks d and reports every problem it finds, or nil when d is
// valid. Beyond MaxNodes nodes or MaxEdges edges it reports only that.
func Validate(d Definition, refs Refs) []Problem {
	if ps := limits(d); ps != nil {
		return ps
	}
	v := &validator{d: d, refs: refs, g: NewGraph(d), anc: map[string]map[string]bool{}}
	v.checkSettings()
	v.checkNodes()
	v.checkEdges()
	if c := v.g.cycle(); c != nil {
		v.add(loc{node: c[0]}, "", "the graph has a cycle: %s", strings.Join(c, " → "))
	}
	return v.problems
}

// limits reports a definition too large to check.
func limits(d Definition) []Problem {
	var ps []Problem
	if len(d.Nodes) > MaxNodes {
		ps = append(ps, loc{}.problem("nodes", fmt.Sprintf("has %d nodes; at most %d are allowed", len(d.Nodes), MaxNodes)))
	}
	if len(d.Edges) > MaxEdges {
		ps = append(ps, loc{}.problem("edges", fmt.Sprintf("has %d edges; at most %d are allowed", len(d.Edges), MaxEdges)))
	}
	return ps
}

// validator accumulates the problems of one definition.
type validator struct {
	d        Definition
	refs     Refs
	g        *Graph
	anc      map[string]map[string]bool // memoized ancestor sets
	problems []Problem
}

// add records a problem at l.
func (v *validator) add(l loc, field, format string, args ...any) {
	v.problems = append(v.problems, l.problem(field, fmt.Sprintf(format, args...)))
}

// ancestors returns the set of ancestors of the node id.
func (v *validator) ancestors(id string) map[string]bool {
	if a, ok := v.anc[id]; ok {
		return a
	}
	a := v.g.ancestors(id)
	v.anc[id] = a
	return a
}

// checkSettings checks the settings' set fields.
func (v *validator) checkSettings() {
	s, l := v.d.Settings, loc{prefix: "settings"}
	v.checkRange(l, "timeout_seconds", float64(s.TimeoutSeconds), 1, 604800)
	v.checkRange(l, "max_parallel", float64(s.MaxParallel), 1, 64)
	v.checkRetry(l, "retry", s.Retry)
}

// checkRetry checks the set fields of a retry policy.
func (v *validator) checkRetry(l loc, field string, p RetryPolicy) {
	v.checkRange(l, field+"/max_attempts", float64(p.MaxAttempts), 1, 20)
	v.checkRange(l, field+"/initial_seconds", p.InitialSeconds, 0.001, 3600)
	v.checkRange(l, field+"/multiplier", p.Multiplier, 1, 10)
	v.checkRange(l, field+"/max_seconds", p.MaxSeconds, 0.001, 86400)
	v.checkRange(l, field+"/jitter", p.Jitter, 0, 1)
}

// checkRange reports x when it is set (not zero) and outside [lo, hi].
func (v *validator) checkRange(l loc, field string, x, lo, hi float64) {
	if x != 0 && (x < lo || x > hi) {
		v.add(l, field, "must be between %g and %g", lo, hi)
	}
}

// checkID checks the id of a node or edge (what) and records it in seen.
func (v *validator) checkID(l loc, id, what string, seen map[string]bool) {
	switch {
	case id == "":
		v.add(l, "id", "is required")
	case !idRE.MatchString(id):
		v.add(l, "id", "must be 1 to 64 letters, digits, '_' or '-'")
	case seen[id]:
		v.add(l, "id", "another %s has the id %q", what, id)
	}
	seen[id] = true
}

// checkNodes checks that there are nodes, and each node.
func (v *validator) checkNodes() {
	if len(v.d.Nodes) == 0 {
		v.add(loc{}, "nodes", "a pipeline needs at least one node")
		return
	}
	seen, triggers := map[string]bool{}, 0
	for i, n := range v.d.Nodes {
		l := locate("nodes", i, n.ID)
		v.checkID(l, n.ID, "node", seen)
		v.checkNode(l, n)
		if n.Type == TypeTrigger {
			if triggers++; triggers > 1 {
				v.add(l, "type", "a pipeline has at most one trigger node")
			}
		}
	}
}

// checkNode checks one node's fields other than its id.
func (v *validator) checkNode(l loc, n Node) {
	if utf8.RuneCountInString(n.Name) > 200 {
		v.add(l, "name", "is longer than 200 characters")
	}
	v.checkType(l, n)
	if n.Retry != nil {
		v.checkRetry(l, "retry", *n.Retry)
	}
	if t := n.TimeoutSeconds; t != nil && (*t < 1 || *t > 604800) {
		v.add(l, "timeout_seconds", "must be between 1 and 604800")
	}
	switch n.OnError {
	case "", OnErrorFail, OnErrorContinue:
	case OnErrorDefault:
		if isNull(n.Default) {
			v.add(l, "default", `is required when on_error is "default"`)
		}
	default:
		v.add(l, "on_error", `must be "fail", "continue" or "default"`)
	}
}

// checkType checks the node's type, then its config against the type's
// schema, then, when the config is valid, what the config refers to.
func (v *validator) checkType(l loc, n Node) {
	sch, ok := configSchemas[n.Type]
	switch {
	case n.Type == "":
		v.add(l, "type", "is required")
		return
	case !ok:
		v.add(l, "type", "unknown node type %q; the types are %s", n.Type, strings.Join(slices.Sorted(maps.Keys(configSchemas)), ", "))
		return
	}
	if cfg, ok := v.checkConfig(l, n.Config, sch); ok {
		v.checkContent(l, n, cfg)
	}
}

// checkConfig checks raw (absent is {}) against sch and returns it decoded
// when it matches.
func (v *validator) checkConfig(l loc, raw json.RawMessage, sch *jsonschema.Schema) (map[string]any, bool) {
	if isNull(raw) {
		raw = json.RawMessage("{}")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		v.add(l, "config", "is not valid JSON")
		return nil, false
	}
	vs := violations(sch, doc)
	for _, vi := range vs {
		v.add(l, "config"+vi.pointer, "%s", vi.message)
	}
	cfg, _ := doc.(map[string]any)
	return cfg, len(vs) == 0
}

// checkContent checks the references inside a node's valid config:
// agents, tools, templates and expressions.
func (v *validator) checkContent(l loc, n Node, cfg map[string]any) {
	switch n.Type {
	case TypeAgent:
		v.checkAgent(l, cfg["agent_id"].(json.Number))
		v.checkTemplate(l, n.ID, "config/task", cfg["task"].(string))
	case TypeTool:
		if name := cfg["tool"].(string); v.refs.Tool != nil && !v.refs.Tool(name) {
			v.add(l, "config/tool", "tool %q does not exist", name)
		}
		_, _ = mapStrings(cfg["input"], nil, func(ptr []string, s string) (any, error) {
			v.checkTemplate(l, n.ID, "config/input"+tool.Pointer(ptr...), s)
			return s, nil
		})
	case TypeCondition:
		if p := v.compile(l, "config/expression", cfg["expression"].(string)); p != nil {
			v.checkExpressionRefs(l, "config/expression", p, v.ancestors(n.ID), fmt.Sprintf("node %q", n.ID))
		}
	}
}

// checkAgent checks that the agent id exists.
func (v *validator) checkAgent(l loc, n json.Number) {
	id, err := n.Int64()
	switch {
	case err != nil:
		v.add(l, "config/agent_id", "must be an integer in plain digits")
	case v.refs.Agent != nil && !v.refs.Agent(id):
		v.add(l, "config/agent_id", "agent %d does not exist", id)
	}
}

// checkTemplate checks the template s at field of the node owner: its
// syntax and that each reference names trigger or an ancestor's output.
func (v *validator) checkTemplate(l loc, owner, field, s string) {
	pieces, err := parseTemplate(s)
	if err != nil {
		v.add(l, field, "%v", err)
		return
	}
	where := fmt.Sprintf("node %q", owner)
	for _, p := range pieces {
		switch {
		case p.path == nil || p.path[0] == "trigger":
		case p.path[0] == "nodes" && len(p.path) >= 3 && p.path[2] == "output":
			v.checkNodeRef(l, field, p.text, p.path[1], v.ancestors(owner), where)
		default:
			v.add(l, field, "%s must name nodes.<id>.output or trigger", p.text)
		}
	}
}

// compile compiles the expression src at field, or reports why it cannot.
func (v *validator) compile(l loc, field, src string) *Program {
	p, err := Compile(src)
	if err != nil {
		v.add(l, field, "does not compile: %v", err)
	}
	return p
}

// checkExpressionRefs checks that the nodes p names are in anc, the nodes
// that precede where it is evaluated (described by where).
func (v *validator) checkExpressionRefs(l loc, field string, p *Program, anc map[string]bool, where string) {
	for _, id := range p.nodes {
		v.checkNodeRef(l, field, "the expression", id, anc, where)
	}
}

// checkNodeRef reports a reference (what) to the node id when that node
// does not exist or is not in anc.
func (v *validator) checkNodeRef(l loc, field, what, id string, anc map[string]bool, where string) {
	if _, ok := v.g.Node(id); !ok {
		v.add(l, field, "%s names the unknown node %q", what, id)
	} else if !anc[id] {
		v.add(l, field, "%s names node %q, which is not an ancestor of %s", what, id, where)
	}
}

// checkEdges checks each edge.
func (v *validator) checkEdges() {
	seen := map[string]bool{}
	for j, e := range v.d.Edges {
		l := locate("edges", j, e.ID)
		v.checkID(l, e.ID, "edge", seen)
		from, to := v.checkEnd(l, "from", e.From), v.checkEnd(l, "to", e.To)
		if from && to && e.From == e.To {
			v.add(l, "to", "the edge leads from node %q to itself", e.From)
		}
		if n, _ := v.g.Node(e.To); to && n.Type == TypeTrigger {
			v.add(l, "to", "a trigger node cannot have incoming edges")
		}
		if e.Condition != "" {
			v.checkCondition(l, e, from)
		}
	}
}

// checkEnd checks one end of an edge and reports whether it names a node.
func (v *validator) checkEnd(l loc, field, id string) bool {
	if id == "" {
		v.add(l, field, "is required")
		return false
	}
	if _, ok := v.g.Node(id); !ok {
		v.add(l, field, "names the unknown node %q", id)
		return false
	}
	return true
}

// checkCondition checks an edge's condition, which may name the edge's
// source and its ancestors; known tells whether the source exists.
func (v *validator) checkCondition(l loc, e Edge, known bool) {
	p := v.compile(l, "condition", e.Condition)
	if p == nil || !known {
		return
	}
	anc := maps.Clone(v.ancestors(e.From))
	anc[e.From] = true
	v.checkExpressionRefs(l, "condition", p, anc, fmt.Sprintf("the edge's source %q", e.From))
}

// Path names the place of a problem as one string: nodes/<id>/<field>,
// edges/<id>/<field>, or the field alone for the definition itself.
func (p Problem) Path() string {
	prefix := ""
	switch {
	case p.NodeID != "":
		prefix = "nodes/" + p.NodeID
	case p.EdgeID != "":
		prefix = "edges/" + p.EdgeID
	default:
		return p.Field
	}
	if p.Field == "" {
		return prefix
	}
	return prefix + "/" + p.Field
}

// Check parses a stored definition and validates it: Parse's problems
// when it cannot be decoded, else Validate's.
func Check(nodes, edges, settings json.RawMessage, refs Refs) []Problem {
	d, problems := Parse(nodes, edges, settings)
	if len(problems) > 0 {
		return problems
	}
	return Validate(d, refs)
}
