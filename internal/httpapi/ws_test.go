package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gathering/gathering/internal/event"
)

// wsClient is a test's WebSocket connection to /ws.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialWS(t *testing.T, s setup, token, query string) *wsClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws" + query
	conn, _, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(1 << 24)
	t.Cleanup(func() { conn.CloseNow() })
	return &wsClient{t, conn}
}

// next reads one message as a map.
func (c *wsClient) next() map[string]any {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), 15*time.Second)
	defer cancel()
	_, b, err := c.conn.Read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("message %s: %v", b, err)
	}
	return m
}

func (c *wsClient) do(msg string) map[string]any {
	c.t.Helper()
	if err := c.conn.Write(c.t.Context(), websocket.MessageText, []byte(msg)); err != nil {
		c.t.Fatal(err)
	}
	return c.next()
}

func publishTest(t *testing.T, s setup, typ, topic, data string) event.Event {
	t.Helper()
	e, err := s.api.bus.Publish(t.Context(), event.Event{Type: typ, Topics: []string{topic}, Data: json.RawMessage(data)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestWebSocketActionsAndDelivery(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	member := callers(t, s)[2].token
	c := dialWS(t, s, member, "")
	if m := c.next(); m["type"] != "connected" || m["data"].(map[string]any)["connection_id"] == "" {
		t.Fatalf("first frame %v", m)
	}
	if m := c.do(`{"action":"subscribe","topics":["run:1","circles"]}`); m["type"] != "subscribed" {
		t.Fatalf("subscribe: %v", m)
	}
	publishTest(t, s, "run.step", "run:2", `{"n":0}`) // not subscribed
	want := publishTest(t, s, "run.step", "run:1", `{"n":1}`)
	m := c.next()
	if m["id"] != want.ID || m["type"] != "run.step" || m["timestamp"] == nil || fmt.Sprint(m["topics"]) != "[run:1]" || fmt.Sprint(m["data"]) != "map[n:1]" {
		t.Fatalf("event frame %v, want %s", m, want.ID)
	}
	publishTest(t, s, "circle.task", "circles:core", `{}`)
	if m := c.next(); m["type"] != "circle.task" {
		t.Fatalf("circles does not match circles:core: %v", m)
	}
	if m := c.do(`{"action":"ping"}`); m["type"] != "pong" {
		t.Fatalf("ping: %v", m)
	}
	if m := c.do(`{"action":"info"}`); m["type"] != "info" || fmt.Sprint(m["data"].(map[string]any)["subscriptions"]) != "[run:1 circles]" {
		t.Fatalf("info: %v", m)
	}
	if m := c.do(`{"action":"dance"}`); m["type"] != "error" {
		t.Fatalf("unknown action: %v", m)
	}
	if m := c.do(`not json`); m["type"] != "error" {
		t.Fatalf("not JSON: %v", m)
	}
	if m := c.do(`{"action":"unsubscribe","topics":["run:1"]}`); m["type"] != "unsubscribed" {
		t.Fatalf("unsubscribe: %v", m)
	}
	publishTest(t, s, "run.step", "run:1", `{"n":2}`)
	publishTest(t, s, "circle.task", "circles:x", `{"last":true}`)
	if m := c.next(); m["type"] != "circle.task" {
		t.Fatalf("after unsubscribe: %v", m)
	}
}

func TestWebSocketHidesOtherAccountsEvents(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	c := dialWS(t, s, cs[2].token, "?topics=*")
	c.next() // connected
	publishTest(t, s, "user.updated", "user:999", `{"user_id":999}`)
	publishTest(t, s, "system.started", "system", `{}`)
	if m := c.next(); m["type"] != "system.started" {
		t.Fatalf("a member saw another account's event: %v", m)
	}
	admin := dialWS(t, s, cs[3].token, "?topics=user:999")
	admin.next()
	publishTest(t, s, "user.updated", "user:999", `{"user_id":999}`)
	if m := admin.next(); m["type"] != "user.updated" {
		t.Fatalf("admin: %v", m)
	}
}

func TestWebSocketReplayAndBatching(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	token := callers(t, s)[2].token
	mark := publishTest(t, s, "run.step", "run:7", `{"n":0}`)
	for i := 1; i <= 50; i++ {
		publishTest(t, s, "run.step", "run:7", fmt.Sprintf(`{"n":%d}`, i))
	}
	c := dialWS(t, s, token, "?topics=run:7&since="+mark.ID)
	c.next() // connected
	for i := 1; i <= 50; i++ {
		if m := c.next(); fmt.Sprint(m["data"]) != fmt.Sprintf("map[n:%d]", i) {
			t.Fatalf("replayed event %d: %v", i, m)
		}
	}
	stale := dialWS(t, s, token, "?topics=run:7&since=00000000000000000000000000")
	stale.next()
	if m := stale.next(); m["type"] != "reset" {
		t.Fatalf("unknown since: %v", m)
	}

	// 10,000 progress events in under a second arrive as a few batches,
	// the last one holding the final value.
	p := dialWS(t, s, token, "?topics=run:8")
	p.next()
	start := time.Now()
	for i := 1; i <= 10_000; i++ {
		publishTest(t, s, "pipeline.progress", "run:8", fmt.Sprintf(`{"done":%d}`, i))
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Logf("publishing took %s (the window count below scales with it)", elapsed)
	}
	frames, last := 0, ""
	for last != "map[done:10000]" {
		m := p.next()
		frames++
		if m["type"] != "batch" {
			t.Fatalf("progress frame %v", m)
		}
		events := m["data"].(map[string]any)["events"].([]any)
		last = fmt.Sprint(events[len(events)-1].(map[string]any)["data"])
	}
	if limit := 25 * max(1, int(time.Since(start)/time.Second)); frames > limit {
		t.Fatalf("%d frames for 10,000 progress events, want at most %d", frames, limit)
	}
}

func TestWebSocketConnectionLimitAndStats(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{MaxConnectionsPerUser: 2})
	cs := callers(t, s)
	dialWS(t, s, cs[1].token, "").next()
	dialWS(t, s, cs[1].token, "").next()
	third := dialWS(t, s, cs[1].token, "")
	_, _, err := third.conn.Read(t.Context())
	if websocket.CloseStatus(err) != websocket.StatusTryAgainLater {
		t.Fatalf("third connection of one user: %v", err)
	}
	conv, _, err := websocket.Dial(t.Context(), "ws"+strings.TrimPrefix(s.srv.URL, "http")+"/ws/conversation/any",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + cs[1].token}}})
	if err != nil {
		t.Fatal(err)
	}
	defer conv.CloseNow()
	if _, _, err := conv.Read(t.Context()); websocket.CloseStatus(err) != websocket.StatusTryAgainLater {
		t.Fatalf("a conversation socket past the user's limit: %v", err)
	}
	code, body := api(t, "GET", s.srv.URL+"/ws/stats", cs[3].token, "")
	var stats WebSocketStats
	if json.Unmarshal([]byte(body), &stats); code != 200 || stats.Connections != 2 || stats.FramesSent < 2 {
		t.Fatalf("stats: %d %s", code, body)
	}
}

func TestServerSentEvents(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	token := callers(t, s)[1].token
	mark := publishTest(t, s, "run.step", "run:3", `{"n":0}`)
	publishTest(t, s, "run.step", "run:3", `{"n":1}`)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.srv.URL+"/events?topics=run:3", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Last-Event-ID", mark.ID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	buf := make([]byte, 4096)
	var got strings.Builder
	for !strings.Contains(got.String(), `"n":1`) {
		n, err := resp.Body.Read(buf)
		if err != nil {
			t.Fatalf("stream: %v (so far %q)", err, got.String())
		}
		got.Write(buf[:n])
	}
	if !strings.Contains(got.String(), "event: run.step") || !strings.Contains(got.String(), "id: ") || strings.Contains(got.String(), `"n":0`) {
		t.Fatalf("stream %q", got.String())
	}
}

func TestWebSocketFrameSizeLimit(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	c := dialWS(t, s, callers(t, s)[1].token, "")
	c.next() // connected
	big := `{"action":"subscribe","topics":["` + strings.Repeat("x", wsReadLimit) + `"]}`
	c.conn.Write(t.Context(), websocket.MessageText, []byte(big))
	_, _, err := c.conn.Read(t.Context())
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("a frame over %d bytes: %v", wsReadLimit, err)
	}
}

// connections reads /ws/stats as an administrator.
func connections(t *testing.T, s setup, admin string) int {
	t.Helper()
	_, body := api(t, "GET", s.srv.URL+"/ws/stats", admin, "")
	var stats WebSocketStats
	json.Unmarshal([]byte(body), &stats)
	return stats.Connections
}

// waitConnections waits until /ws/stats shows want connections.
func waitConnections(t *testing.T, s setup, admin string, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for connections(t, s, admin) != want {
		if time.Now().After(deadline) {
			t.Fatalf("still %d connections after %s, want %d", connections(t, s, admin), within, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWebSocketPeerThatStopsAnsweringIsClosed(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{Streams: StreamTimings{PingEvery: 100 * time.Millisecond, PongTimeout: 200 * time.Millisecond}})
	cs := callers(t, s)
	dialWS(t, s, cs[1].token, "") // never reads, so never answers a ping
	waitConnections(t, s, cs[3].token, 1, 10*time.Second)
	waitConnections(t, s, cs[3].token, 0, 10*time.Second)
}

func TestWebSocketClientThatCannotKeepUpIsClosed(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{Streams: StreamTimings{WriteTimeout: 200 * time.Millisecond}})
	cs := callers(t, s)
	dialWS(t, s, cs[1].token, "?topics=flood") // never reads
	waitConnections(t, s, cs[3].token, 1, 10*time.Second)
	big := `{"blob":"` + strings.Repeat("x", 256<<10) + `"}`
	for i := 0; connections(t, s, cs[3].token) > 0; i++ {
		if i == 400 { // 100 MiB: far past any socket buffer
			t.Fatal("a client that reads nothing is still connected")
		}
		publishTest(t, s, "flood.chunk", "flood", strings.Replace(big, "x", fmt.Sprint(i%10), 1))
	}
}

func TestServerSentEventsKeepAlive(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{Streams: StreamTimings{KeepAlive: 50 * time.Millisecond}})
	token := callers(t, s)[1].token
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.srv.URL+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 1024)
	var got strings.Builder
	for !strings.Contains(got.String(), ": keep-alive") {
		n, err := resp.Body.Read(buf)
		if err != nil {
			t.Fatalf("no keep-alive comment: %v (%q)", err, got.String())
		}
		got.Write(buf[:n])
	}
}
