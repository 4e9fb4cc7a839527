package event_test

import (
	"testing"

	"github.com/gathering/gathering/internal/event"
)

func TestTypePatternProblem(t *testing.T) {
	t.Parallel()
	valid := map[string]string{ // a valid pattern and a type it matches
		"*":                      "anything.at_all",
		"pipeline.run.completed": "pipeline.run.completed",
		"pipeline.*":             "pipeline.node.failed",
		"schedule.run.*":         "schedule.run.skipped",
		"a_1":                    "a_1",
	}
	for pattern, typ := range valid {
		if msg := event.TypePatternProblem(pattern); msg != "" {
			t.Errorf("TypePatternProblem(%q) = %q; want none", pattern, msg)
		}
		if !(event.Filter{Types: []string{pattern}}).Match(event.Event{Type: typ}) {
			t.Errorf("the pattern %q does not match %q", pattern, typ)
		}
	}
	for _, pattern := range []string{"", ".*", "pipeline*", "pipeline.", "*.completed", "pipeline.*.completed",
		"Pipeline.Run", "pipeline..run", "pipeline.*.*", "pipeline run"} {
		if msg := event.TypePatternProblem(pattern); msg == "" {
			t.Errorf("TypePatternProblem(%q) found nothing wrong", pattern)
		}
	}
}
