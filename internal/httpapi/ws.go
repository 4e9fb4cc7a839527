package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
)

// WebSocket limits.
const (
	wsReadLimit     = 64 << 10 // largest client frame
	wsQueue         = 256      // frames queued per connection
	maxTopicsPerMsg = 100      // topics in one subscribe or unsubscribe
)

// StreamTimings are the clocks of live streams; zero fields take the
// defaults.
type StreamTimings struct {
	PingEvery    time.Duration // WebSocket ping interval (30 s)
	PongTimeout  time.Duration // a peer that has not answered a ping by then is closed (60 s)
	WriteTimeout time.Duration // a client that cannot take a frame this long is closed with 1013 (10 s)
	KeepAlive    time.Duration // SSE keep-alive comment interval (15 s)
}

func (t StreamTimings) withDefaults() StreamTimings {
	t.PingEvery = cmp.Or(t.PingEvery, 30*time.Second)
	t.PongTimeout = cmp.Or(t.PongTimeout, 60*time.Second)
	t.WriteTimeout = cmp.Or(t.WriteTimeout, 10*time.Second)
	t.KeepAlive = cmp.Or(t.KeepAlive, 15*time.Second)
	return t
}

// nothing is a topic no event carries: a connection with no subscription
// receives nothing.
const nothing = "\x00"

// hub tracks the live WebSocket connections, for the per-user limit and
// /ws/stats, and encodes each event once for all of them.
type hub struct {
	mu      sync.Mutex
	conns   map[string]*wsConn
	perUser map[int64]int
	cache   *lru.Cache[string, json.RawMessage] // event id → its JSON
}

// encodedEvents is how many recent events the hub keeps encoded.
const encodedEvents = 4096

func newHub() *hub {
	cache, _ := lru.New[string, json.RawMessage](encodedEvents) // fails only for a size ≤ 0
	return &hub{conns: map[string]*wsConn{}, perUser: map[int64]int{}, cache: cache}
}

// encode returns the JSON of an event, encoding it once for every
// connection that sends it.
func (h *hub) encode(e event.Event) json.RawMessage {
	if b, ok := h.cache.Get(e.ID); ok {
		return b
	}
	b, _ := json.Marshal(e) // an Event always encodes: Data is valid JSON
	h.cache.Add(e.ID, b)
	return b
}

// add registers a connection unless its user is at the limit.
func (h *hub) add(c *wsConn, limit int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.reserveLocked(c.principal.UserID, limit) {
		return false
	}
	h.conns[c.id] = c
	return true
}

func (h *hub) remove(c *wsConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c.id)
	h.releaseLocked(c.principal.UserID)
}

// reserve counts one more WebSocket of user (one that is not an event
// stream, such as a conversation's), while fewer than limit are open.
func (h *hub) reserve(user int64, limit int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reserveLocked(user, limit)
}

// release uncounts a WebSocket reserve counted.
func (h *hub) release(user int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.releaseLocked(user)
}

func (h *hub) reserveLocked(user int64, limit int) bool {
	if h.perUser[user] >= limit {
		return false
	}
	h.perUser[user]++
	return true
}

func (h *hub) releaseLocked(user int64) {
	if h.perUser[user]--; h.perUser[user] <= 0 {
		delete(h.perUser, user)
	}
}

// wsConn is one WebSocket client.
type wsConn struct {
	timing      StreamTimings
	encoded     func(event.Event) json.RawMessage // the hub's shared encoder
	id          string
	principal   auth.Principal
	conn        *websocket.Conn
	sub         *event.Subscription
	connectedAt time.Time
	framesSent  atomic.Uint64

	mu     sync.Mutex
	topics []string
}

// serveEvents is GET /ws: live events over a WebSocket.
func (a *API) serveEvents(conn *websocket.Conn, p auth.Principal, r *http.Request) {
	defer conn.CloseNow()
	conn.SetReadLimit(wsReadLimit)
	c := &wsConn{timing: a.opts.Streams, encoded: a.hub.encode, id: event.NewID(time.Now()), principal: p, conn: conn, connectedAt: time.Now(), topics: splitList(r.URL.Query().Get("topics"))}
	sub, err := a.bus.Subscribe(event.SubscribeOptions{Filter: c.filter(), Queue: wsQueue, Overflow: event.DropOldest, Since: since(r)})
	if err != nil {
		conn.Close(websocket.StatusPolicyViolation, gathering.ErrorMessage(err))
		return
	}
	defer sub.Close()
	c.sub = sub
	if !a.hub.add(c, a.opts.MaxConnectionsPerUser) {
		conn.Close(websocket.StatusTryAgainLater, "too many connections for this user")
		return
	}
	defer a.hub.remove(c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.send(ctx, map[string]any{"type": "connected", "data": map[string]any{"connection_id": c.id}})
	var wg sync.WaitGroup
	wg.Go(func() { c.readActions(ctx, cancel) })
	wg.Go(func() { c.keepAlive(ctx, cancel) })
	c.forward(ctx, a.streamsEnd, a.visible)
	cancel()
	conn.CloseNow()
	wg.Wait()
}

// forward writes the subscription's frames until it ends or the
// connection fails; a client too slow to take a frame is closed with 1013.
func (c *wsConn) forward(ctx context.Context, end <-chan struct{}, visible func(auth.Principal, event.Event) bool) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-end:
			c.conn.Close(websocket.StatusGoingAway, "server shutting down")
			return
		case f, ok := <-c.sub.Frames():
			if !ok {
				c.conn.Close(websocket.StatusGoingAway, "server shutting down")
				return
			}
			msg, ok := wsFrame(f, c.principal, visible)
			if !ok {
				continue
			}
			if f.Kind == event.KindEvent {
				msg = c.encoded(f.Event) // one encoding shared by every connection
			}
			if err := c.send(ctx, msg); errors.Is(err, context.DeadlineExceeded) {
				c.conn.Close(websocket.StatusTryAgainLater, "client too slow: send queue full")
				return
			} else if err != nil {
				return
			}
		}
	}
}

// send writes one JSON message within the write timeout; msg may be
// already encoded (json.RawMessage).
func (c *wsConn) send(ctx context.Context, msg any) error {
	b, ok := msg.(json.RawMessage)
	if !ok {
		var err error
		if b, err = json.Marshal(msg); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timing.WriteTimeout)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		return err
	}
	c.framesSent.Add(1)
	return nil
}

// keepAlive pings every PingEvery and ends the connection when a pong does
// not come back within PongTimeout.
func (c *wsConn) keepAlive(ctx context.Context, cancel context.CancelFunc) {
	t := time.NewTicker(c.timing.PingEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pingCtx, stop := context.WithTimeout(ctx, c.timing.PongTimeout)
			err := c.conn.Ping(pingCtx)
			stop()
			if err != nil { // a peer that does not answer pings reads no close frame either
				cancel()
				c.conn.CloseNow()
				return
			}
		}
	}
}

// clientAction is a message from the client.
type clientAction struct {
	Action string   `json:"action"`
	Topics []string `json:"topics"`
}

// readActions answers the client's actions until the connection ends.
func (c *wsConn) readActions(ctx context.Context, cancel context.CancelFunc) {
	defer cancel()
	for {
		_, data, err := c.conn.Read(ctx)
		if err != nil {
			return
		}
		var act clientAction
		if err := json.Unmarshal(data, &act); err != nil {
			c.send(ctx, errorMessage("messages are JSON objects like {\"action\":\"subscribe\",\"topics\":[\"run:42\"]}"))
			continue
		}
		c.send(ctx, c.act(act))
	}
}

// act applies one action and returns the answer.
func (c *wsConn) act(act clientAction) any {
	if len(act.Topics) > maxTopicsPerMsg {
		return errorMessage("at most " + strconv.Itoa(maxTopicsPerMsg) + " topics per message")
	}
	switch act.Action {
	case "subscribe":
		return map[string]any{"type": "subscribed", "data": map[string]any{"topics": c.changeTopics(act.Topics, true)}}
	case "unsubscribe":
		return map[string]any{"type": "unsubscribed", "data": map[string]any{"topics": c.changeTopics(act.Topics, false)}}
	case "ping":
		return map[string]any{"type": "pong"}
	case "info":
		c.mu.Lock()
		defer c.mu.Unlock()
		return map[string]any{"type": "info", "data": map[string]any{"id": c.id, "subscriptions": slices.Clone(c.topics), "connected_at": c.connectedAt}}
	}
	return errorMessage("unknown action " + strconv.Quote(act.Action) + "; use subscribe, unsubscribe, ping or info")
}

// changeTopics adds or removes topics and returns the subscriptions now.
func (c *wsConn) changeTopics(topics []string, add bool) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range topics {
		t = strings.TrimSpace(t)
		has := slices.Contains(c.topics, t)
		switch {
		case add && !has && t != "":
			c.topics = append(c.topics, t)
		case !add && has:
			c.topics = slices.DeleteFunc(c.topics, func(x string) bool { return x == t })
		}
	}
	c.sub.SetFilter(c.filterLocked())
	return slices.Clone(c.topics)
}

func (c *wsConn) filter() event.Filter {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.filterLocked()
}

func (c *wsConn) filterLocked() event.Filter {
	if len(c.topics) == 0 {
		return event.Filter{Topics: []string{nothing}}
	}
	return event.Filter{Topics: slices.Clone(c.topics)}
}

func errorMessage(msg string) map[string]any {
	return map[string]any{"type": "error", "data": map[string]any{"message": msg}}
}

// wsFrame turns a bus frame into the client's message; events the caller
// may not see are left out.
func wsFrame(f event.Frame, p auth.Principal, visible func(auth.Principal, event.Event) bool) (any, bool) {
	switch f.Kind {
	case "event":
		return f.Event, visible(p, f.Event)
	case "batch":
		events := slices.DeleteFunc(slices.Clone(f.Batch), func(e event.Event) bool { return !visible(p, e) })
		return map[string]any{"type": "batch", "data": map[string]any{"events": events}}, len(events) > 0
	case "lagged":
		return map[string]any{"type": "lagged", "data": map[string]any{"missed": f.Missed}}, true
	case "reset":
		return map[string]any{"type": "reset", "data": map[string]any{"reason": f.Reason}}, true
	}
	return nil, false
}

// visible reports whether p may see e: account events (topics user:…) are
// for administrators and for the account itself.
func (a *API) visible(p auth.Principal, e event.Event) bool {
	if p.Role == gathering.RoleAdmin {
		return true
	}
	own := "user:" + strconv.FormatInt(p.UserID, 10)
	for _, t := range e.Topics {
		if strings.HasPrefix(t, "user:") && t != own {
			return false
		}
	}
	return true
}

// since is where a reconnecting client resumes: ?since= or Last-Event-ID.
func since(r *http.Request) string {
	if s := r.URL.Query().Get("since"); s != "" {
		return s
	}
	return r.Header.Get("Last-Event-ID")
}

func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
