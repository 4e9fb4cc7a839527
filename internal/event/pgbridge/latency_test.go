package pgbridge_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/event/pgbridge"
)

// TestCrossInstanceLatency sends 1,000 small events from instance A and
// logs the send-to-deliver latency at B: back to back, and paced at
// 1,000 events/s, one after the other. Run with -v to see the numbers.
func TestCrossInstanceLatency(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		every time.Duration
	}{{"back-to-back", 0}, {"1000/s", time.Millisecond}} {
		name, every := tc.name, tc.every
		t.Run(name, func(t *testing.T) {
			f := setup(t)
			a, _ := f.start(t, "a")
			_, busB := f.start(t, "b")
			lat := measureLatency(t, a, busB, 1000, every)
			p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
			t.Logf("cross-instance latency over %d events (%s): p50 %v, p99 %v, max %v",
				len(lat), name, p50, p99, lat[len(lat)-1])
			if p50 > 500*time.Millisecond {
				t.Errorf("p50 %v, want within 500ms", p50)
			}
		})
	}
}

// measureLatency sends n small events from a, one every `every` (0: back to
// back), and returns the sorted delays until each reached busB.
func measureLatency(t *testing.T, a *pgbridge.Bridge, busB *fakeBus, n int, every time.Duration) []time.Duration {
	t.Helper()
	sentAt := make(map[string]time.Time, n)
	next := time.Now()
	for i := range n {
		if wait := time.Until(next); wait > 0 {
			time.Sleep(wait)
		}
		next = next.Add(every)
		e := newEvent("a", i, 10)
		sentAt[e.ID] = time.Now()
		if err := a.Send(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	lat := make([]time.Duration, 0, n)
	for range n {
		d := busB.next(t, 10*time.Second)
		lat = append(lat, d.at.Sub(sentAt[d.e.ID]))
	}
	slices.Sort(lat)
	return lat
}
