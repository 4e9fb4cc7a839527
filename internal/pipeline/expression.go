package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// MaxExpressionLength is the longest expression Compile accepts, in bytes.
const MaxExpressionLength = 2000

// maxExpressionNodes bounds an expression's syntax tree.
const maxExpressionNodes = 1000

// Env is what an expression sees. Values are JSON as decoded by
// encoding/json into any (objects map[string]any, numbers float64).
type Env struct {
	// Nodes holds the state of the run's nodes by node id.
	Nodes map[string]NodeState `expr:"nodes" json:"nodes"`
	// Trigger is the run's trigger_data.
	Trigger any `expr:"trigger" json:"trigger"`
	// Input holds the outputs of the node's direct predecessors by node id.
	Input map[string]any `expr:"input" json:"input"`
}

// NodeState is one node's state as an expression sees it:
// nodes.<id>.output, nodes.<id>.status and nodes.<id>.error.
type NodeState struct {
	Output any    `expr:"output" json:"output"`
	Status string `expr:"status" json:"status"`
	Error  string `expr:"error" json:"error"`
}

// TemplateData returns the data templates are rendered with:
// {"nodes": {<id>: {"output": …}}, "trigger": …}.
func (e Env) TemplateData() map[string]any {
	nodes := make(map[string]any, len(e.Nodes))
	for id, s := range e.Nodes {
		nodes[id] = map[string]any{"output": s.Output}
	}
	return map[string]any{"nodes": nodes, "trigger": e.Trigger}
}

// Program is a compiled boolean expression. It is safe for concurrent use.
type Program struct {
	program *vm.Program
	nodes   []string // the node ids named as nodes.<id> or nodes["<id>"]
}

// Compile compiles an expr-lang expression over an Env that must yield a
// boolean. Names outside Env and results known not to be boolean are
// compile errors; a result whose type is only known at run time is checked
// by Eval. Expressions call no function that reaches outside the process.
func Compile(expression string) (*Program, error) {
	switch {
	case strings.TrimSpace(expression) == "":
		return nil, errors.New("the expression is empty")
	case len(expression) > MaxExpressionLength:
		return nil, fmt.Errorf("the expression is longer than %d bytes", MaxExpressionLength)
	}
	p, err := expr.Compile(expression, expr.Env(Env{}), expr.AsBool(), expr.MaxNodes(maxExpressionNodes))
	if err != nil {
		return nil, oneLine(err)
	}
	return &Program{program: p, nodes: nodeRefs(p.Node())}, nil
}

// Eval evaluates the expression on env. Runtime errors (a missing key, a
// non-boolean result, the evaluator's memory budget) are errors.
func (p *Program) Eval(env Env) (bool, error) {
	out, err := expr.Run(p.program, env)
	if err != nil {
		return false, oneLine(err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("the expression yields %T, not a boolean", out)
	}
	return b, nil
}

// oneLine drops the source snippet expr-lang appends to its errors.
func oneLine(err error) error {
	first, _, _ := strings.Cut(err.Error(), "\n")
	return errors.New(first)
}

// nodeRefs returns the node ids the tree names as nodes.<id> or
// nodes["<id>"], in order of first appearance.
func nodeRefs(tree ast.Node) []string {
	v := &refVisitor{}
	ast.Walk(&tree, v)
	return v.ids
}

// refVisitor collects node ids for nodeRefs.
type refVisitor struct{ ids []string }

// Visit implements ast.Visitor.
func (v *refVisitor) Visit(n *ast.Node) {
	m, ok := (*n).(*ast.MemberNode)
	if !ok {
		return
	}
	root, ok := m.Node.(*ast.IdentifierNode)
	if !ok || root.Value != "nodes" {
		return
	}
	if key, ok := m.Property.(*ast.StringNode); ok && !slices.Contains(v.ids, key.Value) {
		v.ids = append(v.ids, key.Value)
	}
}
