package tool_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// tenFields is a typical tool input schema: ten typed, constrained fields.
const tenFields = `{
  "type": "object",
  "properties": {
    "project_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
    "path": {"type": "string", "minLength": 1, "maxLength": 4096},
    "content": {"type": "string", "maxLength": 1048576},
    "mode": {"enum": ["create", "overwrite", "append"]},
    "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
    "recursive": {"type": "boolean"},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
    "ratio": {"type": "number", "minimum": 0, "maximum": 1},
    "author": {"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string"}}, "required": ["name"], "additionalProperties": false},
    "message": {"type": "string", "maxLength": 1000}
  },
  "required": ["project_id", "path", "mode"],
  "additionalProperties": false
}`

const tenFieldsInput = `{"project_id":"p1","path":"docs/readme.md","content":"hello","mode":"overwrite","limit":10,"recursive":true,"tags":["a","b"],"ratio":0.5,"author":{"name":"Ann","email":"ann@example.com"},"message":"update"}`

func noop(name, schema string, async bool) func(*runs) tool.Tool {
	return func(*runs) tool.Tool {
		return tool.Tool{Name: name, Input: json.RawMessage(schema), Async: async, Concurrency: 64,
			Run: func(context.Context, json.RawMessage) (json.RawMessage, error) { return json.RawMessage(`{}`), nil }}
	}
}

// BenchmarkValidateTenFields is the schema validation cost of one call.
func BenchmarkValidateTenFields(b *testing.B) {
	reg := tool.NewRegistry()
	if err := reg.Register(noop("bench.ten", tenFields, false)(nil)); err != nil {
		b.Fatal(err)
	}
	t, _ := reg.Get("bench.ten")
	in := json.RawMessage(tenFieldsInput)
	b.ReportAllocs()
	for b.Loop() {
		if err := t.ValidateInput(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallNoop is Registry.Call on a no-op tool with the ten-field
// schema: resolve, permission, validation, timeout, no recording.
func BenchmarkCallNoop(b *testing.B) {
	reg := tool.NewRegistry()
	if err := reg.Register(noop("bench.ten", tenFields, false)(nil)); err != nil {
		b.Fatal(err)
	}
	in := json.RawMessage(tenFieldsInput)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Call(b.Context(), member, "bench.ten", in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecuteNoop is the full recorded path of a synchronous no-op
// call (one database write per call), with its latency percentiles.
func BenchmarkExecuteNoop(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", sqliteStore}, {"postgres", postgresStore}} {
		b.Run(backend.name, func(b *testing.B) {
			f := benchFixture(b, backend.open, noop("bench.ten", tenFields, false))
			in := json.RawMessage(tenFieldsInput)
			took := make([]time.Duration, 0, 1024)
			for b.Loop() {
				start := time.Now()
				if _, err := f.x.Execute(b.Context(), tool.Request{Tool: "bench.ten", Input: in, Caller: member, UserID: 1}); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			reportPercentiles(b, took)
		})
	}
}

// BenchmarkAsyncNoop is the throughput of background no-op executions:
// three recorded writes each (pending, running, succeeded).
func BenchmarkAsyncNoop(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", sqliteStore}, {"postgres", postgresStore}} {
		b.Run(backend.name, func(b *testing.B) {
			f := benchFixture(b, backend.open, noop("bench.async", `{"type":"object"}`, true))
			sub, err := f.bus.Subscribe(event.SubscribeOptions{Filter: event.Filter{Types: []string{"tool.execution.succeeded"}}, Overflow: event.Block, Queue: 1 << 16})
			if err != nil {
				b.Fatal(err)
			}
			defer sub.Close()
			start := time.Now()
			n := 0
			for b.Loop() {
				if _, err := f.x.Execute(b.Context(), tool.Request{Tool: "bench.async", Caller: member}); err != nil {
					b.Fatal(err)
				}
				n++
			}
			for done := 0; done < n; {
				fr := <-sub.Frames()
				done += max(1, len(fr.Batch))
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "executions/s")
		})
	}
}

// benchFixture builds an executor over a store the way the tests do.
func benchFixture(b *testing.B, open func(testing.TB) store.Store, tools ...func(*runs) tool.Tool) *fixture {
	b.Helper()
	st := open(b)
	bus := event.NewBus(event.Config{RingSize: 1 << 16})
	if err := bus.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	reg := tool.NewRegistry()
	for _, mk := range tools {
		if err := reg.Register(mk(&runs{})); err != nil {
			b.Fatal(err)
		}
	}
	x := tool.NewExecutor(reg, st, bus, tool.ExecutorOptions{})
	if err := x.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = x.Stop(ctx)
		_ = bus.Stop(ctx)
	})
	return &fixture{st: st, bus: bus, reg: reg, x: x}
}

func reportPercentiles(b *testing.B, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	at := func(p float64) float64 { return float64(took[int(p*float64(len(took)-1))].Microseconds()) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
