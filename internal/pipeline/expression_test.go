package pipeline

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

func env() Env {
	return Env{
		Nodes: map[string]NodeState{
			"fetch": {Status: "completed", Output: map[string]any{"status": 200.0, "tags": []any{"a", "b"}, "flag": "yes"}},
			"bad":   {Status: "failed", Error: "timeout"},
		},
		Trigger: map[string]any{"amount": 120.0, "user": map[string]any{"vip": true}},
		Input:   map[string]any{"fetch": map[string]any{"status": 200.0}},
	}
}

func TestEval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		want bool
	}{
		{"true", true},
		{"nodes.fetch.output.status == 200", true},
		{"nodes.fetch.output.status >= 500", false},
		{`nodes.bad.status == "failed" && nodes.bad.error contains "time"`, true},
		{`nodes["fetch"].status == "completed"`, true},
		{"trigger.amount > 100 and trigger.user.vip", true},
		{"input.fetch.status == 200", true},
		{`"b" in nodes.fetch.output.tags`, true},
		{"len(nodes.fetch.output.tags) == 3", false},
		{"nodes.gone?.output?.x == nil", true},
		{"trigger.user.vip", true},
	}
	for _, tt := range tests {
		p, err := Compile(tt.expr)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.expr, err)
			continue
		}
		if got, err := p.Eval(env()); err != nil || got != tt.want {
			t.Errorf("Eval(%q) = %v, %v; want %v", tt.expr, got, err, tt.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ expr, want string }{
		{"", "the expression is empty"},
		{"  ", "the expression is empty"},
		{strings.Repeat("1", MaxExpressionLength+1), "longer than 2000 bytes"},
		{"1 + 2", "expected bool, but got int"},
		{`"yes"`, "expected bool, but got string"},
		{"nodes.fetch.status", "expected bool, but got string"},
		{"nodes.fetch.outputs == nil", "has no field outputs"},
		{"secrets.key == 1", "unknown name secrets"},
		{"true &&", "unexpected token EOF"},
		{strings.Repeat("1+", 600) + "1 > 0", "exceeds maximum allowed nodes"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.expr)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Compile(%.40q) = %v; want one line with %q", tt.expr, err, tt.want)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ expr, want string }{
		{"trigger.user", "bool(map[string]interface {})"},
		{"nodes.fetch.output.flag", `bool(string)`},
		{"nodes.gone.output.x == 1", "cannot fetch x from <nil>"},
		{"trigger.amount > 1 && nodes.fetch.output.status.x == 1", "cannot fetch x from float64"},
		{"len(1..10000000) > 0", "memory budget exceeded"},
	}
	for _, tt := range tests {
		p, err := Compile(tt.expr)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.expr, err)
			continue
		}
		got, err := p.Eval(env())
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Eval(%q) = %v, %v; want one line with %q", tt.expr, got, err, tt.want)
		}
	}
}

func TestProgramNamesItsNodes(t *testing.T) {
	t.Parallel()
	p, err := Compile(`nodes.b.status == "x" || nodes["a-1"].output == 1 || nodes.b.error != "" || input.c == nil || trigger.nodes == 1`)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.nodes, []string{"b", "a-1"}) {
		t.Fatalf("nodes %q", p.nodes)
	}
}

func TestProgramIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	p, err := Compile("nodes.fetch.output.status == 200")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if ok, err := p.Eval(env()); !ok || err != nil {
				t.Errorf("%v %v", ok, err)
			}
		})
	}
	wg.Wait()
}
