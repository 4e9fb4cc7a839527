package event_test

import (
	"testing"

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
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		m := f.GetMetric()[0]
		got[f.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
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
