package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/coder/websocket"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// statusNotFound closes a conversation socket whose conversation does not
// exist (the upgrade comes before the lookup, which needs the caller
// authenticated).
const statusNotFound websocket.StatusCode = 4404

// ConversationFrame is one message of WS /ws/conversation/{id}: status
// (the conversation when the socket opens and whenever its status
// changes), message (each message, in order, once), then end (the
// conversation as it ended), after which the server closes the socket.
type ConversationFrame struct {
	Type         string                       `json:"type" enum:"status,message,end"`
	Conversation *ConversationResponse        `json:"conversation,omitempty"`
	Message      *ConversationMessageResponse `json:"message,omitempty"`
}

// conversationStream is one client following a conversation.
type conversationStream struct {
	a      *API
	conn   *websocket.Conn
	id     string
	sent   int                      // messages sent
	status store.ConversationStatus // last status sent
}

// serveConversation is WS /ws/conversation/{id}. The events of the
// conversation, from any instance, only wake it: it reads what is new
// from the store, so that a lagging subscription or a reconnect loses
// nothing and nothing is sent twice. Client messages are not read.
func (a *API) serveConversation(conn *websocket.Conn, p auth.Principal, r *http.Request) {
	defer conn.CloseNow()
	if !a.hub.reserve(p.UserID, a.opts.MaxConnectionsPerUser) {
		conn.Close(websocket.StatusTryAgainLater, "too many connections for this user")
		return
	}
	defer a.hub.release(p.UserID)
	s := &conversationStream{a: a, conn: conn, id: r.PathValue("id")}
	sub, err := a.bus.Subscribe(event.SubscribeOptions{Filter: event.Filter{Topics: []string{"conversation:" + s.id}},
		Queue: wsQueue, Overflow: event.DropOldest})
	if err != nil {
		conn.Close(websocket.StatusPolicyViolation, gathering.ErrorMessage(err))
		return
	}
	defer sub.Close()
	ctx := conn.CloseRead(context.Background()) // ends when the client goes away
	for {
		ended, err := s.catchUp(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case gathering.ErrorCode(err) == gathering.ENOTFOUND && s.status == "":
			conn.Close(statusNotFound, "No conversation "+s.id+".")
			return
		case gathering.ErrorCode(err) == gathering.ENOTFOUND:
			conn.Close(websocket.StatusNormalClosure, "the conversation was deleted")
			return
		case errors.Is(err, context.DeadlineExceeded):
			conn.Close(websocket.StatusTryAgainLater, "client too slow")
			return
		case err != nil:
			conn.Close(websocket.StatusInternalError, "the conversation cannot be read")
			return
		case ended:
			conn.Close(websocket.StatusNormalClosure, "the conversation has ended")
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-a.streamsEnd:
			conn.Close(websocket.StatusGoingAway, "the server is stopping")
			return
		case _, ok := <-sub.Frames(): // a turn, a prompt, an end, or frames lost: read again
			if !ok {
				conn.Close(websocket.StatusGoingAway, "the server is stopping")
				return
			}
		}
	}
}

// catchUp sends the conversation's status when it changed and the
// messages not sent yet, then, when it has ended, its end; it reports
// whether it has.
func (s *conversationStream) catchUp(ctx context.Context) (bool, error) {
	c, err := s.a.store.ConversationGet(ctx, s.id)
	if err != nil {
		return false, err
	}
	view := conversationResponse(c)
	if !c.Status.Ended() && c.Status != s.status {
		if err := s.send(ctx, ConversationFrame{Type: "status", Conversation: &view}); err != nil {
			return false, err
		}
	}
	s.status = c.Status
	for s.sent < c.MessageCount {
		page, _, err := s.a.store.ConversationMessages(ctx, s.id, store.Page{Limit: 500, Offset: s.sent})
		if err != nil || len(page) == 0 {
			return false, err
		}
		for _, m := range page {
			msg := conversationMessageResponse(m)
			if err := s.send(ctx, ConversationFrame{Type: "message", Message: &msg}); err != nil {
				return false, err
			}
		}
		s.sent += len(page)
	}
	if !c.Status.Ended() {
		return false, nil
	}
	return true, s.send(ctx, ConversationFrame{Type: "end", Conversation: &view})
}

// send writes one frame within the stream write timeout.
func (s *conversationStream) send(ctx context.Context, f ConversationFrame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.a.opts.Streams.WriteTimeout)
	defer cancel()
	return s.conn.Write(ctx, websocket.MessageText, b)
}
