package event_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gathering/gathering/internal/event"
)

func TestDedupWithinWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, event.Config{DedupWindows: map[string]time.Duration{"agent.status": time.Second}})
		s := subscribe(t, b, event.SubscribeOptions{})
		first := publish(t, b, "agent.status", `{"state":"busy"}`, "agent:3", "circle:core")
		for range 99 {
			again := publish(t, b, "agent.status", `{"state":"busy"}`, "circle:core", "agent:3")
			if again.ID != first.ID {
				t.Fatalf("duplicate got a new id %s", again.ID)
			}
		}
		if e := nextEvent(t, s); e.ID != first.ID {
			t.Fatalf("got %s", e.ID)
		}
		quiet(t, s, 10*time.Millisecond)

		other := publish(t, b, "agent.status", `{"state":"idle"}`, "agent:3", "circle:core")
		if e := nextEvent(t, s); e.ID != other.ID {
			t.Fatal("different data was deduplicated")
		}
		time.Sleep(time.Second)
		later := publish(t, b, "agent.status", `{"state":"busy"}`, "agent:3", "circle:core")
		if e := nextEvent(t, s); e.ID != later.ID || later.ID == first.ID {
			t.Fatal("not delivered again after the window")
		}
		if st := b.Stats(); st.Deduplicated != 99 || st.Published != 3 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestDedupOnlyDeclaredTypesUnlessDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, event.Config{DedupWindows: map[string]time.Duration{"agent.status": time.Second}})
		publish(t, b, "agent.other", "1")
		publish(t, b, "agent.other", "1")
		if st := b.Stats(); st.Published != 2 {
			t.Fatalf("undeclared type deduplicated: %+v", st)
		}
		d := setup(t, event.Config{DefaultDedup: time.Second, DedupWindows: map[string]time.Duration{"never.dedup": 0}})
		publish(t, d, "agent.other", "1")
		publish(t, d, "agent.other", "1")
		publish(t, d, "never.dedup", "1")
		publish(t, d, "never.dedup", "1")
		if st := d.Stats(); st.Published != 3 || st.Deduplicated != 1 {
			t.Fatalf("default dedup: %+v", st)
		}
	})
}

// TestDedupUsesInjectedClock: the dedup window follows Config.Now.
func TestDedupUsesInjectedClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	b := setup(t, event.Config{Now: clock, DefaultDedup: time.Minute})
	first := publish(t, b, "a.b", "1")
	if e, _ := b.Publish(context.Background(), event.Event{Type: "a.b", Data: []byte("1")}); e.ID != first.ID {
		t.Fatal("not deduplicated")
	}
	if !first.At.Equal(now) {
		t.Fatalf("At %v, want the injected clock's %v", first.At, now)
	}
	// Sequential in this test only: nothing else moves the fake clock.
	now = now.Add(time.Minute)
	if e := publish(t, b, "a.b", "1"); e.ID == first.ID {
		t.Fatal("deduplicated after the window")
	}
}
