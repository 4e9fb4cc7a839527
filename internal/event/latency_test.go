package event_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/event"
)

// TestStuckSubscriberDoesNotSlowOthers measures the p99 publish-to-receive
// latency of a fast subscriber with and without a DropOldest subscriber
// that never reads, in the same test, and expects them within 3× (plus 3 ms
// of scheduler noise). The stuck subscriber is told it lagged.
func TestStuckSubscriberDoesNotSlowOthers(t *testing.T) {
	const events = 3000
	var alone, withStuck []time.Duration
	var stuck *event.Subscription
	for range 3 { // alternate the two setups to spread scheduler noise
		alone = append(alone, p99(t, events, false, nil))
		withStuck = append(withStuck, p99(t, events, true, &stuck))
	}
	base, loaded := slices.Min(alone), slices.Min(withStuck)
	t.Logf("p99 alone %v, with a stuck subscriber %v (runs %v, %v)", base, loaded, alone, withStuck)
	// A stuck subscriber that slowed the others would cost them far more
	// than a few milliseconds; that much slack absorbs a busy machine (the
	// whole suite runs beside this test).
	if loaded > 3*base+3*time.Millisecond {
		t.Fatalf("p99 with a stuck subscriber %v > 3 × %v + 3 ms", loaded, base)
	}
	st := stuck.Stats()
	if st.Queued != event.DefaultQueue || st.Behind == 0 {
		t.Fatalf("stuck subscriber stats %+v", st)
	}
	received, missed := drain(stuck)
	if missed == 0 || received+missed != events {
		t.Fatalf("stuck subscriber received %d and missed %d of %d", received, missed, events)
	}
	if st := stuck.Stats(); st.Dropped != uint64(missed) || st.Behind != 0 {
		t.Fatalf("stuck subscriber stats after draining %+v", st)
	}
}

// drain reads frames until none comes for 100 ms and returns how many
// events came and how many were reported missed.
func drain(s *event.Subscription) (received, missed int) {
	for {
		select {
		case f := <-s.Frames():
			switch f.Kind {
			case event.KindLagged:
				missed += f.Missed
			case event.KindEvent:
				received++
			}
		case <-time.After(100 * time.Millisecond):
			return received, missed
		}
	}
}

// p99 publishes events at a steady pace to a fast subscriber (and a stuck
// one when asked, returned through stuckOut) and returns the fast one's p99
// publish-to-receive latency.
func p99(t *testing.T, events int, withStuck bool, stuckOut **event.Subscription) time.Duration {
	b := setup(t, event.Config{})
	fast := subscribe(t, b, event.SubscribeOptions{Overflow: event.Block, Queue: 4096})
	if withStuck {
		*stuckOut = subscribe(t, b, event.SubscribeOptions{})
	}
	got := make(chan []time.Duration)
	go func() {
		lat := make([]time.Duration, 0, events)
		for range events {
			f := <-fast.Frames()
			lat = append(lat, time.Since(f.Event.At))
		}
		got <- lat
	}()
	for i := range events {
		publish(t, b, "test.latency", "", "t:1")
		if i%10 == 9 {
			time.Sleep(200 * time.Microsecond)
		}
	}
	lat := <-got
	slices.Sort(lat)
	return lat[len(lat)*99/100]
}
