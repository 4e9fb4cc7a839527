package openai

import (
	"cmp"
	"slices"
	"strings"

	"github.com/gathering/gathering/internal/llm"
)

// callAssembler joins the pieces of streamed tool calls: the first piece of
// a call carries its id and name, the following ones more of its arguments,
// all tagged with the call's index.
type callAssembler struct {
	calls []*partialCall
}

// partialCall is a tool call being assembled.
type partialCall struct {
	index    int
	id, name string
	args     strings.Builder
}

// add applies one piece.
func (a *callAssembler) add(tc wireToolCall) {
	p := a.slot(tc)
	if tc.ID != "" {
		p.id = tc.ID
	}
	if tc.Function.Name != "" {
		p.name = tc.Function.Name
	}
	p.args.WriteString(tc.Function.Arguments)
}

// slot finds or opens the call a piece belongs to.
func (a *callAssembler) slot(tc wireToolCall) *partialCall {
	if tc.Index == nil {
		return a.unindexed(tc.ID)
	}
	for _, p := range a.calls {
		if p.index == *tc.Index {
			return p
		}
	}
	return a.open(*tc.Index)
}

// unindexed places a piece from a server that leaves the index out: a new
// id opens a new call, a piece without one continues the last call.
func (a *callAssembler) unindexed(id string) *partialCall {
	if n := len(a.calls); n > 0 && (id == "" || a.calls[n-1].id == id) {
		return a.calls[n-1]
	}
	return a.open(len(a.calls))
}

// open starts the call at index i.
func (a *callAssembler) open(i int) *partialCall {
	p := &partialCall{index: i}
	a.calls = append(a.calls, p)
	return p
}

// done returns the assembled calls in index order.
func (a *callAssembler) done() []llm.ToolCall {
	slices.SortStableFunc(a.calls, func(x, y *partialCall) int { return cmp.Compare(x.index, y.index) })
	var out []llm.ToolCall
	for _, p := range a.calls {
		out = append(out, newToolCall(p.id, p.name, p.args.String()))
	}
	return out
}
