package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/event"
)

// streamEvents is GET /events: the same events as /ws, as a
// text/event-stream, filtered by ?topics= and ?types=, resuming after
// ?since= or Last-Event-ID.
func (a *API) streamEvents(w http.ResponseWriter, r *http.Request) error {
	p, _ := principal(r.Context())
	q := r.URL.Query()
	sub, err := a.bus.Subscribe(event.SubscribeOptions{
		Filter:   event.Filter{Topics: splitList(q.Get("topics")), Types: splitList(q.Get("types"))},
		Queue:    wsQueue,
		Overflow: event.DropOldest,
		Since:    since(r),
	})
	if err != nil {
		return err
	}
	defer sub.Close()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n\n")
	rc.Flush()
	keepAlive := time.NewTicker(a.opts.Streams.KeepAlive)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-a.streamsEnd:
			return nil
		case <-keepAlive.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case f, ok := <-sub.Frames():
			if !ok {
				return nil
			}
			writeSSE(w, f, p, a.visible)
		}
		if rc.Flush() != nil {
			return nil
		}
	}
}

// writeSSE writes one bus frame as a server-sent event.
func writeSSE(w io.Writer, f event.Frame, p auth.Principal, visible func(auth.Principal, event.Event) bool) {
	if f.Kind == "event" {
		if visible(p, f.Event) {
			data, _ := json.Marshal(f.Event)
			fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", f.Event.ID, f.Event.Type, data)
		}
		return
	}
	msg, ok := wsFrame(f, p, visible)
	if !ok {
		return
	}
	data, _ := json.Marshal(msg)
	if f.Kind == "batch" {
		fmt.Fprintf(w, "id: %s\n", f.Batch[len(f.Batch)-1].ID)
	}
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", f.Kind, data)
}

// ConnectionStats describes one WebSocket connection.
type ConnectionStats struct {
	ID            string    `json:"id"`
	UserID        int64     `json:"user_id"`
	ConnectedAt   time.Time `json:"connected_at"`
	Subscriptions []string  `json:"subscriptions"`
	FramesSent    uint64    `json:"frames_sent"`
	Dropped       uint64    `json:"dropped" doc:"frames dropped because the client read too slowly"`
	Queued        int       `json:"queued" doc:"frames waiting to be sent (lag)"`
}

// WebSocketStats answers GET /ws/stats.
type WebSocketStats struct {
	Connections int               `json:"connections"`
	FramesSent  uint64            `json:"frames_sent"`
	Dropped     uint64            `json:"dropped"`
	PerConn     []ConnectionStats `json:"per_connection"`
}

func (a *API) webSocketStats(w http.ResponseWriter, _ *http.Request) error {
	out := WebSocketStats{PerConn: []ConnectionStats{}}
	a.hub.mu.Lock()
	for _, c := range a.hub.conns {
		s := c.stats()
		out.FramesSent += s.FramesSent
		out.Dropped += s.Dropped
		out.PerConn = append(out.PerConn, s)
	}
	a.hub.mu.Unlock()
	out.Connections = len(out.PerConn)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (c *wsConn) stats() ConnectionStats {
	c.mu.Lock()
	topics := append([]string{}, c.topics...)
	c.mu.Unlock()
	s := ConnectionStats{ID: c.id, UserID: c.principal.UserID, ConnectedAt: c.connectedAt, Subscriptions: topics, FramesSent: c.framesSent.Load()}
	if c.sub != nil {
		st := c.sub.Stats()
		s.Dropped, s.Queued = st.Dropped, st.Queued
	}
	return s
}
