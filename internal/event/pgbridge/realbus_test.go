package pgbridge_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/event/pgbridge"
)

// instance is one real bus wired to PostgreSQL through a bridge.
type instance struct {
	bus    *event.Bus
	bridge *pgbridge.Bridge
}

// startInstance builds a bus for id, makes a bridge its transport, starts
// both and stops them in reverse when the test ends.
func (f *fixture) startInstance(t *testing.T, id string) *instance {
	t.Helper()
	bus := event.NewBus(event.Config{Instance: id})
	bridge := pgbridge.New(f.config(id), bus)
	bus.SetTransport(bridge)
	if err := bridge.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := bus.Stop(context.Background()); err != nil {
			t.Error(err)
		}
		if err := bridge.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return &instance{bus: bus, bridge: bridge}
}

// subscribe opens a subscription to every event on i's bus.
func (i *instance) subscribe(t *testing.T) *event.Subscription {
	t.Helper()
	sub, err := i.bus.Subscribe(event.SubscribeOptions{Queue: 1024})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	return sub
}

// publish publishes an event of type typ with data on i's bus.
func (i *instance) publish(t *testing.T, typ string, data string) event.Event {
	t.Helper()
	e, err := i.bus.Publish(t.Context(), event.Event{Type: typ, Topics: []string{"run:42"}, Data: json.RawMessage(data)})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return e
}

// nextFrame waits up to d for sub's next frame.
func nextFrame(t *testing.T, sub *event.Subscription, d time.Duration) event.Frame {
	t.Helper()
	select {
	case fr := <-sub.Frames():
		return fr
	case <-time.After(d):
		t.Fatalf("no frame within %v", d)
		return event.Frame{}
	}
}

// wantEvent fails unless fr is the event want.
func wantEvent(t *testing.T, fr event.Frame, want event.Event) {
	t.Helper()
	if fr.Kind != event.KindEvent || fr.Event.ID != want.ID || fr.Event.Origin != want.Origin ||
		string(fr.Event.Data) != string(want.Data) || !fr.Event.At.Equal(want.At) {
		t.Fatalf("got %s frame %+v\nwant event %+v", fr.Kind, fr.Event, want)
	}
}

// TestTwoRealBuses wires two real buses through two bridges on one
// database: events cross both ways, large ones too, nobody receives its own
// event twice, and after B's listener is killed B's subscribers get a reset
// and then live events again.
func TestTwoRealBuses(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a, b := f.startInstance(t, "a"), f.startInstance(t, "b")
	subA, subB := a.subscribe(t), b.subscribe(t)

	small := a.publish(t, "run.progress", `{"p":1}`)
	large := a.publish(t, "run.output", `{"text":"`+strings.Repeat("y", 20_000)+`"}`)
	wantEvent(t, nextFrame(t, subB, 500*time.Millisecond), small)
	wantEvent(t, nextFrame(t, subB, 500*time.Millisecond), large)

	reply := b.publish(t, "run.ack", `{"ok":true}`)
	for _, want := range []event.Event{small, large, reply} { // no echo in between
		wantEvent(t, nextFrame(t, subA, 500*time.Millisecond), want)
	}
	wantEvent(t, nextFrame(t, subB, 500*time.Millisecond), reply)

	f.terminateListener(t, "b")
	if fr := nextFrame(t, subB, 5*time.Second); fr.Kind != event.KindReset || fr.Reason != "event stream interrupted" {
		t.Fatalf("got %s frame (%q), want reset", fr.Kind, fr.Reason)
	}
	after := a.publish(t, "run.progress", `{"p":2}`)
	wantEvent(t, nextFrame(t, subB, 500*time.Millisecond), after)
}
