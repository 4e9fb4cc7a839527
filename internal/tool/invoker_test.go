package tool_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// whoTool answers with the invoker its body sees.
func whoTool(*runs) tool.Tool {
	return tool.Tool{
		Name: "test.who", Description: "Tells who called it.", Input: json.RawMessage(`{"type":"object"}`),
		Run: func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
			inv, ok := tool.InvokerOf(ctx)
			return fmt.Appendf(nil, `{"ok":%t,"user":%d,"agent":%d}`, ok, inv.UserID, inv.AgentID), nil
		},
	}
}

func TestBodiesKnowTheirInvoker(t *testing.T) {
	if _, ok := tool.InvokerOf(t.Context()); ok {
		t.Fatal("a plain context has an invoker")
	}
	f := newFixture(t, sqliteStore(t), tool.ExecutorOptions{}, whoTool)
	for _, background := range []bool{false, true} {
		e, err := f.x.Execute(t.Context(), tool.Request{Tool: "test.who", Input: json.RawMessage(`{}`),
			Caller: tool.AgentCaller("test"), UserID: 7, AgentID: 3, Background: background})
		if err != nil {
			t.Fatal(err)
		}
		if background {
			e = f.waitFinal(t, e.ID, 10*time.Second)
		}
		if e.Status != store.ToolSucceeded || string(e.Output) != `{"ok":true,"user":7,"agent":3}` {
			t.Fatalf("background %t: %+v", background, e)
		}
	}
}
