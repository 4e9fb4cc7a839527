package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gathering/gathering/internal/event"
)

// BenchmarkWebSocketFanout is an on-demand load run (go test -bench
// WebSocketFanout -benchtime 1x; scripts/bench.sh runs it): 1,000 WebSocket
// clients on loopback subscribed to one topic; events are published at increasing rates (up to 1,000/s) for 3 s
// each, and each step reports the deliveries, the publish-to-receive p50/p99
// and the lagged frames (drops for slow reading).
func BenchmarkWebSocketFanout(b *testing.B) {
	s := newSetup(b, Options{MaxConnectionsPerUser: 2000})
	token := callers(b, s)[1].token
	clients := fanoutClients(b, s, token, 1000)
	for b.Loop() {
		fanoutRun(b, s, clients)
	}
}

// fanoutRun publishes at each rate in turn and logs what the clients saw.
func fanoutRun(b *testing.B, s setup, clients []*fanoutClient) {
	for _, rate := range []int{50, 100, 200, 500, 1000} {
		lat, dropped := fanoutStep(b, s, clients, rate, 3*time.Second)
		b.Logf("%5d events/s to %d clients: %d deliveries, p50 %s, p99 %s, lagged frames %d",
			rate, len(clients), len(lat), percentile(lat, 50), percentile(lat, 99), dropped)
		if len(lat) == 0 {
			b.Fatal("nothing delivered")
		}
	}
}

// fanoutClient is one subscribed connection and what it measured.
type fanoutClient struct {
	conn    *websocket.Conn
	mu      sync.Mutex
	lat     []time.Duration
	lagged  atomic.Int64
	stopped chan struct{}
}

func fanoutClients(t testing.TB, s setup, token string, n int) []*fanoutClient {
	url := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws?topics=load"
	clients := make([]*fanoutClient, n)
	for i := range clients {
		conn, _, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		c := &fanoutClient{conn: conn, stopped: make(chan struct{})}
		go c.read()
		clients[i] = c
	}
	t.Cleanup(func() {
		for _, c := range clients {
			c.conn.CloseNow()
			<-c.stopped
		}
	})
	return clients
}

// read records, for every event, the time since it was published.
func (c *fanoutClient) read() {
	defer close(c.stopped)
	for {
		_, b, err := c.conn.Read(context.Background())
		if err != nil {
			return
		}
		var m struct {
			Type string `json:"type"`
			Data struct {
				SentNanos int64 `json:"sent"`
			} `json:"data"`
		}
		json.Unmarshal(b, &m)
		switch m.Type {
		case "load.tick":
			d := time.Duration(time.Now().UnixNano() - m.Data.SentNanos)
			c.mu.Lock()
			c.lat = append(c.lat, d)
			c.mu.Unlock()
		case "lagged":
			c.lagged.Add(1)
		}
	}
}

// fanoutStep publishes at rate for d, waits for the tail, and collects the
// clients' latencies and lagged frames (resetting them).
func fanoutStep(t testing.TB, s setup, clients []*fanoutClient, rate int, d time.Duration) ([]time.Duration, int64) {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
		data := fmt.Sprintf(`{"sent":%d}`, time.Now().UnixNano())
		if _, err := s.api.bus.Publish(t.Context(), event.Event{Type: "load.tick", Topics: []string{"load"}, Data: json.RawMessage(data)}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2 * time.Second)
	var all []time.Duration
	var lagged int64
	for _, c := range clients {
		c.mu.Lock()
		all = append(all, c.lat...)
		c.lat = nil
		c.mu.Unlock()
		lagged += c.lagged.Swap(0)
	}
	return all, lagged
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, len(ds)*p/100)].Round(10 * time.Microsecond)
}
