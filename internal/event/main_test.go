package event_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/event"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// setup returns a started bus that is stopped when the test ends.
func setup(t testing.TB, cfg event.Config) *event.Bus {
	t.Helper()
	b := event.NewBus(cfg)
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return b
}

// subscribe opens a subscription that is closed when the test ends.
func subscribe(t testing.TB, b *event.Bus, opts event.SubscribeOptions) *event.Subscription {
	t.Helper()
	s, err := b.Subscribe(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// publish publishes an event and fails the test on error.
func publish(t testing.TB, b *event.Bus, typ, data string, topics ...string) event.Event {
	t.Helper()
	e, err := b.Publish(context.Background(), event.Event{Type: typ, Topics: topics, Data: []byte(data)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// next returns the next frame, failing the test after 5 s.
func next(t testing.TB, s *event.Subscription) event.Frame {
	t.Helper()
	select {
	case f, ok := <-s.Frames():
		if !ok {
			t.Fatal("frames closed")
		}
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("no frame within 5 s")
	}
	return event.Frame{}
}

// nextEvent returns the next frame's event, failing unless it is one.
func nextEvent(t testing.TB, s *event.Subscription) event.Event {
	t.Helper()
	f := next(t, s)
	if f.Kind != event.KindEvent {
		t.Fatalf("frame %+v, want an event", f)
	}
	return f.Event
}

// quiet fails the test if a frame arrives within d.
func quiet(t testing.TB, s *event.Subscription, d time.Duration) {
	t.Helper()
	select {
	case f := <-s.Frames():
		t.Fatalf("unexpected frame %+v", f)
	case <-time.After(d):
	}
}
