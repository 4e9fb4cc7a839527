package httpapi

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gathering/gathering/internal/store"
)

// httpMetrics are the request metrics /metrics exposes.
type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gathering_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gathering_http_request_duration_seconds",
			Help:    "HTTP request latency, by method, route pattern and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gathering_http_requests_in_flight",
			Help: "HTTP requests being served now.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.inFlight)
	return m
}

func (m *httpMetrics) observe(method, route string, status int, elapsed time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(method, route, code).Inc()
	m.latency.WithLabelValues(method, route, code).Observe(elapsed.Seconds())
}

// poolCollector exposes the database connection pool, whatever the backend.
type poolCollector struct {
	stats func() store.PoolStats
	descs map[string]*prometheus.Desc
}

func newPoolCollector(s store.Store) *poolCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("gathering_db_pool_"+name, help, nil, prometheus.Labels{"backend": string(s.Backend())})
	}
	return &poolCollector{stats: s.Stats, descs: map[string]*prometheus.Desc{
		"max":       desc("max_connections", "Largest number of open connections allowed."),
		"open":      desc("open_connections", "Open connections."),
		"in_use":    desc("in_use_connections", "Connections in use."),
		"idle":      desc("idle_connections", "Idle connections."),
		"waits":     desc("waits_total", "Times a caller waited for a connection."),
		"wait_time": desc("wait_seconds_total", "Total time callers waited for a connection."),
	}}
}

// Describe implements prometheus.Collector.
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	gauge := func(key string, v float64) {
		ch <- prometheus.MustNewConstMetric(c.descs[key], prometheus.GaugeValue, v)
	}
	counter := func(key string, v float64) {
		ch <- prometheus.MustNewConstMetric(c.descs[key], prometheus.CounterValue, v)
	}
	gauge("max", float64(s.MaxConns))
	gauge("open", float64(s.OpenConns))
	gauge("in_use", float64(s.InUse))
	gauge("idle", float64(s.Idle))
	counter("waits", float64(s.WaitCount))
	counter("wait_time", s.WaitDuration.Seconds())
}
