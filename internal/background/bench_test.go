package background_test

import (
	"testing"
	"time"

	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
)

// BenchmarkTaskSteps measures what a step costs besides the model: 10-step
// tasks, one at a time, against a provider that answers at once, on
// SQLite. A step is a chat turn (session lease, context, history, usage,
// messages) and the step's two records.
func BenchmarkTaskSteps(b *testing.B) {
	const steps = 10
	r := newRig(b, nil)
	r.fake.SetFallback(openaitest.Reply{Content: "Counting."})
	run := r.runner(b, background.Options{})
	ended, err := r.bus.Subscribe(event.SubscribeOptions{Filter: event.Filter{Types: []string{"background_task.failed"}}})
	if err != nil {
		b.Fatal(err)
	}
	defer ended.Close()
	start := time.Now()
	for b.Loop() {
		id := r.create(b, run, "Count.", steps, 1).ID
		<-ended.Frames()
		if task := r.final(b, id); task.ErrorCode != "max_steps" {
			b.Fatalf("task %s %s", task.Status, task.Error)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N*steps), "ms/step")
}
