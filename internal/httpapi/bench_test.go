package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store/pgstore"
	"github.com/gathering/gathering/internal/store/pgtest"
)

// BenchmarkLive measures GET /health/live through the whole API (router and
// every middleware: request id, access log, metrics, recovery, headers, CORS,
// limits) over real loopback TCP. BenchmarkBareLive measures a bare net/http
// handler the same way; the ratio of the two is the API's overhead.
func BenchmarkLive(b *testing.B) {
	s := newSetup(b, Options{})
	loadTest(b, s.srv.URL+"/health/live")
}

// BenchmarkBareLive is the baseline for BenchmarkLive.
func BenchmarkBareLive(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	}))
	defer srv.Close()
	loadTest(b, srv.URL)
}

// loadTest sends b.N GETs from 8 concurrent keep-alive clients and reports
// requests per second and latency percentiles.
func loadTest(b *testing.B, url string, header ...string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	var latencies []time.Duration
	b.SetParallelism(4) // 4 × GOMAXPROCS clients
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			resp, err := client.Do(req.Clone(b.Context()))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(latencies)
	if len(latencies) == 0 {
		return
	}
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(latencies[len(latencies)*50/100].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
}

// benchToken registers a member and returns an access token for it.
func benchToken(b *testing.B, s setup) string {
	b.Helper()
	_, err := s.api.auth.Register(b.Context(), auth.RegisterParams{Email: "bench@example.com", Password: "bench-password", Name: "Bench", Role: gathering.RoleMember}, auth.RequestMeta{})
	if err != nil {
		b.Fatal(err)
	}
	pair, _, err := s.api.auth.Login(b.Context(), "bench@example.com", "bench-password", auth.RequestMeta{})
	if err != nil {
		b.Fatal(err)
	}
	return pair.AccessToken
}

// BenchmarkGuard measures the per-request cost of authentication (JWT,
// revocation check, user load: SQLite) and the rate limiter, in process,
// without the network.
func BenchmarkGuard(b *testing.B) {
	s := newSetup(b, Options{})
	token := benchToken(b, s)
	guarded := s.api.guard(Route{Method: "GET", Pattern: "/auth/me", Access: Viewer})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("GET", "/auth/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req = req.WithContext(context.WithValue(req.Context(), clientIPKey{}, netip.MustParseAddr("127.0.0.1")))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		guarded.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkMePostgres measures authenticated GET /auth/me on PostgreSQL
// over loopback; BenchmarkLivePostgres is /health/live on the same setup.
func BenchmarkMePostgres(b *testing.B) {
	s := postgresSetup(b)
	loadTest(b, s.srv.URL+"/auth/me", "Authorization", "Bearer "+benchToken(b, s))
}

// BenchmarkLivePostgres is the baseline for BenchmarkMePostgres.
func BenchmarkLivePostgres(b *testing.B) {
	loadTest(b, postgresSetup(b).srv.URL+"/health/live")
}

func postgresSetup(b *testing.B) setup {
	db, err := pgstore.Open(b.Context(), pgstore.Config{URL: pgtest.URL(b)})
	if err != nil {
		b.Fatal(err)
	}
	return newSetupOn(b, db, Options{})
}
