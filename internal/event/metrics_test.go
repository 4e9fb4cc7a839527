package event_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gathering/gathering/internal/event"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	b := setup(t, event.Config{Registerer: reg})
	event.NewBus(event.Config{Registerer: reg}) // a second bus on the same registry does not panic
	s := subscribe(t, b, event.SubscribeOptions{})
	publish(t, b, "a.b", "")
	nextEvent(t, s)
	// The delivered counter moves just after the frame is handed over, so
	// the reader can get there first: wait for it.
	var got map[string]float64
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		got = gather(t, reg)
		if got["gathering_events_delivered_total"] == 1 || time.Now().After(deadline) {
			break
		}
	}
	want := map[string]float64{
		"gathering_events_published_total": 1,
		"gathering_events_delivered_total": 1,
		"gathering_events_dropped_total":   0,
		"gathering_events_lost_total":      0,
		"gathering_events_subscribers":     1,
	}
	for name, v := range want {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", name, g, ok, v)
		}
	}
}

// gather reads every metric of reg as name → value (counters and gauges).
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		m := f.GetMetric()[0]
		got[f.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return got
}
