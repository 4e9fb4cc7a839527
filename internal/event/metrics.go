package event

import "github.com/prometheus/client_golang/prometheus"

// registerMetrics exposes the bus's counters on reg. They are read from
// Stats when scraped, so publishing costs nothing extra. Registration errors
// (a second bus on the same registry) are ignored.
func registerMetrics(reg prometheus.Registerer, b *Bus) {
	counter := func(name, help string, v func(BusStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gathering_events_" + name, Help: help},
			func() float64 { return float64(v(b.Stats())) })
	}
	collectors := []prometheus.Collector{
		counter("published_total", "Events published on this instance.", func(s BusStats) uint64 { return s.Published }),
		counter("remote_total", "Events received from other instances.", func(s BusStats) uint64 { return s.Remote }),
		counter("deduplicated_total", "Publishes absorbed by dedup.", func(s BusStats) uint64 { return s.Deduplicated }),
		counter("delivered_total", "Frames handed to subscribers.", func(s BusStats) uint64 { return s.Delivered }),
		counter("dropped_total", "Frames dropped by live subscribers that fell behind.", func(s BusStats) uint64 { return s.Dropped }),
		counter("lost_total", "Frames lost by blocking subscribers that fell behind.", func(s BusStats) uint64 { return s.Lost }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gathering_events_subscribers", Help: "Open subscriptions."},
			func() float64 { return float64(b.Stats().Subscribers) }),
	}
	for _, c := range collectors {
		_ = reg.Register(c)
	}
}
