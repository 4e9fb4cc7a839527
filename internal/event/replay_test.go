package event_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/event"
)

func TestReplaySinceThenLive(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{})
	s, err := b.Subscribe(event.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mark := publish(t, b, "a.b", "-1", "run:1")
	if e := nextEvent(t, s); e.ID != mark.ID {
		t.Fatal("mark not received")
	}
	s.Close()
	for i := range 50 {
		publish(t, b, "a.b", strconv.Itoa(i), "run:1")
	}
	r := subscribe(t, b, event.SubscribeOptions{Since: mark.ID, Overflow: event.Block})
	for i := range 50 {
		if e := nextEvent(t, r); string(e.Data) != strconv.Itoa(i) {
			t.Fatalf("replayed %s, want %d", e.Data, i)
		}
	}
	live := publish(t, b, "a.b", `"live"`, "run:1")
	if e := nextEvent(t, r); e.ID != live.ID {
		t.Fatalf("got %s after the replay", e.Data)
	}
}

func TestReplayFilters(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{})
	mark := publish(t, b, "a.b", "", "run:1")
	publish(t, b, "a.b", "1", "run:2")
	want := publish(t, b, "a.b", "2", "run:1")
	r := subscribe(t, b, event.SubscribeOptions{Since: mark.ID, Filter: event.Filter{Topics: []string{"run:1"}}})
	if e := nextEvent(t, r); e.ID != want.ID {
		t.Fatalf("replayed %s", e.Data)
	}
}

func TestReplayEvictedIDResets(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{RingSize: 10})
	old := publish(t, b, "a.b", "")
	for range 20 {
		publish(t, b, "a.b", "")
	}
	for _, since := range []string{old.ID, "00000000000000000000000000"} {
		r := subscribe(t, b, event.SubscribeOptions{Since: since})
		if f := next(t, r); f.Kind != event.KindReset || f.Reason == "" {
			t.Fatalf("since %s: first frame %+v, want reset", since, f)
		}
		live := publish(t, b, "a.b", "")
		if e := nextEvent(t, r); e.ID != live.ID {
			t.Fatal("not live after the reset")
		}
	}
}

func TestReplayEmptyRingResets(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{})
	r := subscribe(t, b, event.SubscribeOptions{Since: "01ARZ3NDEKTSV4RRFFQ69G5FAV"})
	if f := next(t, r); f.Kind != event.KindReset {
		t.Fatalf("frame %+v, want reset", f)
	}
}

func TestReplayUnknownIDInsideRing(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{})
	first := publish(t, b, "a.b", "1")
	second := publish(t, b, "a.b", "2")
	r := subscribe(t, b, event.SubscribeOptions{Since: first.ID + "0"}) // sorts between the two
	if e := nextEvent(t, r); e.ID != second.ID {
		t.Fatalf("replayed %s", e.Data)
	}
	newest := subscribe(t, b, event.SubscribeOptions{Since: second.ID})
	quiet(t, newest, 20*time.Millisecond)
}

func TestReplayCrossesReset(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{})
	mark := publish(t, b, "a.b", "")
	b.Reset("gap")
	after := publish(t, b, "a.b", "")
	r := subscribe(t, b, event.SubscribeOptions{Since: mark.ID})
	if f := next(t, r); f.Kind != event.KindReset || f.Reason != "gap" {
		t.Fatalf("frame %+v, want the reset", f)
	}
	if e := nextEvent(t, r); e.ID != after.ID {
		t.Fatal("event after the reset not replayed")
	}
}

// TestBlockSubscriberOutgrowingRingLoses: a Block subscriber whose backlog
// outgrows the ring loses what left it, counts it and is told.
func TestBlockSubscriberOutgrowingRingLoses(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{RingSize: 16})
	s := subscribe(t, b, event.SubscribeOptions{Queue: 4, Overflow: event.Block})
	for i := range 100 {
		publish(t, b, "a.b", strconv.Itoa(i))
	}
	received, missed := drain(s)
	st := s.Stats()
	if missed == 0 || received+missed != 100 || st.Lost != uint64(missed) || st.Dropped != 0 {
		t.Fatalf("received %d, missed %d, stats %+v", received, missed, st)
	}
}

// TestDropOldestKeepsNewest: a DropOldest subscriber that fell behind is
// told how many frames it missed, and ends with the newest events.
func TestDropOldestKeepsNewest(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{})
	s := subscribe(t, b, event.SubscribeOptions{Queue: 8, Filter: event.Filter{Topics: []string{"mine"}}})
	for i := range 1000 {
		publish(t, b, "a.b", strconv.Itoa(i), "mine")
		publish(t, b, "a.b", "", "other")
	}
	var events []int
	missed := 0
	for len(events)+missed < 1000 {
		switch f := next(t, s); f.Kind {
		case event.KindLagged:
			missed += f.Missed
		default:
			n, _ := strconv.Atoi(string(f.Event.Data))
			events = append(events, n)
		}
	}
	tail := events[max(0, len(events)-6):]
	if missed == 0 || !slices.IsSorted(events) || !slices.Equal(tail, []int{994, 995, 996, 997, 998, 999}) {
		t.Fatalf("missed %d, events %v", missed, events)
	}
	if st := s.Stats(); st.Dropped != uint64(missed) {
		t.Fatalf("stats %+v, missed %d", st, missed)
	}
}

// TestDropOldestSkipsWhatItWouldDrop: a subscription replaying more than
// its queue holds skips straight to the newest frames, and counts the rest.
func TestDropOldestSkipsWhatItWouldDrop(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{})
	mark := publish(t, b, "a.b", "")
	for i := range 100 {
		publish(t, b, "a.b", strconv.Itoa(i), "mine")
		publish(t, b, "a.b", "", "other")
	}
	s := subscribe(t, b, event.SubscribeOptions{Since: mark.ID, Queue: 8, Filter: event.Filter{Topics: []string{"mine"}}})
	want := []string{"lagged:94", "94", "95", "96", "97", "98", "99"}
	var got []string
	for range want {
		switch f := next(t, s); f.Kind {
		case event.KindLagged:
			got = append(got, "lagged:"+strconv.Itoa(f.Missed))
		default:
			got = append(got, string(f.Event.Data))
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("frames %v, want %v", got, want)
	}
}
