package event_test

import (
	"testing"

	"github.com/gathering/gathering/internal/event"
)

func TestFilterMatch(t *testing.T) {
	t.Parallel()
	ev := func(typ string, topics ...string) event.Event { return event.Event{Type: typ, Topics: topics} }
	tests := []struct {
		name   string
		filter event.Filter
		event  event.Event
		want   bool
	}{
		{"empty filter matches all", event.Filter{}, ev("a.b", "x:1"), true},
		{"empty filter matches no topics", event.Filter{}, ev("a.b"), true},
		{"exact type", event.Filter{Types: []string{"pipeline.node.completed"}}, ev("pipeline.node.completed"), true},
		{"other type", event.Filter{Types: []string{"pipeline.node.completed"}}, ev("pipeline.node.failed"), false},
		{"wildcard type", event.Filter{Types: []string{"*"}}, ev("anything.here"), true},
		{"prefix one level", event.Filter{Types: []string{"pipeline.*"}}, ev("pipeline.started"), true},
		{"prefix deeper", event.Filter{Types: []string{"pipeline.*"}}, ev("pipeline.node.completed"), true},
		{"prefix is not the type itself", event.Filter{Types: []string{"pipeline.*"}}, ev("pipeline"), false},
		{"prefix needs the dot", event.Filter{Types: []string{"pipeline.*"}}, ev("pipelines.x"), false},
		{"nested prefix", event.Filter{Types: []string{"pipeline.node.*"}}, ev("pipeline.run.started"), false},
		{"any of the types", event.Filter{Types: []string{"user.*", "agent.token"}}, ev("agent.token"), true},
		{"exact topic", event.Filter{Topics: []string{"run:42"}}, ev("x.y", "run:42"), true},
		{"other topic", event.Filter{Topics: []string{"run:42"}}, ev("x.y", "run:420"), false},
		{"topic prefix", event.Filter{Topics: []string{"circles"}}, ev("x.y", "circles:core"), true},
		{"topic prefix equal", event.Filter{Topics: []string{"circles"}}, ev("x.y", "circles"), true},
		{"topic prefix needs colon", event.Filter{Topics: []string{"circle"}}, ev("x.y", "circles:core"), false},
		{"nested topic prefix", event.Filter{Topics: []string{"pipeline:7"}}, ev("x.y", "pipeline:7:node:3"), true},
		{"any event topic", event.Filter{Topics: []string{"run:42"}}, ev("x.y", "pipeline:7", "run:42"), true},
		{"wildcard topic", event.Filter{Topics: []string{"*"}}, ev("x.y", "z:1"), true},
		{"wildcard topic, no topics", event.Filter{Topics: []string{"*"}}, ev("x.y"), true},
		{"topic filter, no topics", event.Filter{Topics: []string{"run"}}, ev("x.y"), false},
		{"type and topic both needed", event.Filter{Types: []string{"run.*"}, Topics: []string{"run:1"}}, ev("agent.x", "run:1"), false},
		{"type and topic", event.Filter{Types: []string{"run.*"}, Topics: []string{"run:1"}}, ev("run.done", "run:1"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.filter.Match(tt.event); got != tt.want {
				t.Fatalf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}
