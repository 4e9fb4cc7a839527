package event_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/event"
)

// BenchmarkPublishOneSubscriber measures events/s through the bus to one
// Block subscriber: the clock runs until the subscriber has every event.
func BenchmarkPublishOneSubscriber(b *testing.B) { benchPublish(b, 1) }

// BenchmarkPublishTenSubscribers is the same with ten subscribers.
func BenchmarkPublishTenSubscribers(b *testing.B) { benchPublish(b, 10) }

func benchPublish(b *testing.B, subscribers int) {
	bus := event.NewBus(event.Config{RingSize: 1 << 18})
	defer func() { _ = bus.Stop(context.Background()) }()
	var wg sync.WaitGroup
	var lost sync.Map
	for i := range subscribers {
		s, err := bus.Subscribe(event.SubscribeOptions{Overflow: event.Block, Queue: 1024})
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() { lost.Store(i, consume(s, b.N)) })
	}
	e := event.Event{Type: "bench.event", Topics: []string{"run:1"}, Data: []byte(`{"n":1}`)}
	ctx := context.Background()
	b.ReportAllocs()
	start := time.Now()
	b.ResetTimer()
	for range b.N {
		if _, err := bus.Publish(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	total := 0
	lost.Range(func(_, v any) bool { total += v.(int); return true })
	b.ReportMetric(float64(total)/float64(b.N*subscribers), "lost/event")
}

// consume reads until n events have arrived or been reported missed, and
// returns how many were missed.
func consume(s *event.Subscription, n int) (missed int) {
	for got := 0; got+missed < n; {
		f := <-s.Frames()
		if f.Kind == event.KindLagged {
			missed += f.Missed
		} else {
			got++
		}
	}
	return missed
}
