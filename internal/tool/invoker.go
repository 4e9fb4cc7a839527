package tool

import (
	"context"

	"github.com/gathering/gathering/internal/store"
)

// Invoker is who a tool body runs for: the user who called, or on whose
// behalf an agent called, and that agent (0 for a user).
type Invoker struct {
	UserID  int64
	AgentID int64
}

type invokerKey struct{}

// withInvoker returns a context telling the body of e's tool who called it.
func withInvoker(ctx context.Context, e store.ToolExecution) context.Context {
	return context.WithValue(ctx, invokerKey{}, Invoker{UserID: e.UserID, AgentID: e.AgentID})
}

// InvokerOf returns who the running tool body was called by; false outside
// a body the Executor runs.
func InvokerOf(ctx context.Context) (Invoker, bool) {
	inv, ok := ctx.Value(invokerKey{}).(Invoker)
	return inv, ok
}
