package event_test

import (
	"context"
	"fmt"

	"github.com/gathering/gathering/internal/event"
)

func ExampleBus() {
	ctx := context.Background()
	bus := event.NewBus(event.Config{})
	if err := bus.Start(ctx); err != nil {
		panic(err)
	}
	defer func() { _ = bus.Stop(ctx) }()

	// A live view of one pipeline's node events.
	sub, err := bus.Subscribe(event.SubscribeOptions{
		Filter: event.Filter{Types: []string{"pipeline.node.*"}, Topics: []string{"pipeline:7"}},
	})
	if err != nil {
		panic(err)
	}
	defer sub.Close()

	_, _ = bus.Publish(ctx, event.Event{Type: "pipeline.node.completed", Topics: []string{"pipeline:7", "run:42"}, Data: []byte(`{"node":3}`)})
	_, _ = bus.Publish(ctx, event.Event{Type: "pipeline.node.completed", Topics: []string{"pipeline:8"}})

	f := <-sub.Frames()
	fmt.Println(f.Kind, f.Event.Type, f.Event.Topics, string(f.Event.Data))
	// Output: event pipeline.node.completed [pipeline:7 run:42] {"node":3}
}

func ExampleFilter_Match() {
	f := event.Filter{Types: []string{"pipeline.*"}, Topics: []string{"circles"}}
	fmt.Println(f.Match(event.Event{Type: "pipeline.node.completed", Topics: []string{"circles:core"}}))
	fmt.Println(f.Match(event.Event{Type: "pipeline.node.completed", Topics: []string{"circle:core"}}))
	fmt.Println(f.Match(event.Event{Type: "agent.token", Topics: []string{"circles"}}))
	// Output:
	// true
	// false
	// false
}
