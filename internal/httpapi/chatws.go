package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"

	"github.com/coder/websocket"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/gathering"
)

// chatReadLimit bounds one client message on /ws/chat: a chat message
// (agent.MaxMessageLen) and its JSON framing.
const chatReadLimit = agent.MaxMessageLen + 4096

// serveChat is WS /ws/chat/{agent_id}: the client sends turns as
// {"message", "session_id"?, "include_memories"?, "allow_tools"?}, one at a
// time, and receives each turn's frames (start, token, tool_call,
// tool_result, done, error) as JSON messages. A turn that fails before it
// starts is answered with one error frame carrying the problem's status.
func (a *API) serveChat(conn *websocket.Conn, p auth.Principal, r *http.Request) {
	defer conn.CloseNow()
	conn.SetReadLimit(chatReadLimit)
	id, err := pathID(r, "agent_id")
	if err == nil {
		_, err = a.store.AgentGet(r.Context(), id)
	}
	if err != nil {
		conn.Close(websocket.StatusPolicyViolation, gathering.ErrorMessage(err))
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // before wg.Wait: it ends the watcher
	wg.Go(func() {
		select {
		case <-a.streamsEnd:
			cancel()
			conn.Close(websocket.StatusGoingAway, "the server is stopping")
		case <-ctx.Done():
		}
	})
	for ctx.Err() == nil {
		var body ChatRequest
		if err := readJSON(ctx, conn, &body); err != nil {
			if errors.Is(err, errBadFrame) {
				a.chatFrame(ctx, conn, agent.Frame{Type: "error", Error: "Each message must be one JSON object: {\"message\": \"…\"}."})
				continue
			}
			return
		}
		a.chatTurn(ctx, conn, agent.ChatRequest{AgentID: id, UserID: p.UserID, Message: body.Message, SessionID: body.SessionID,
			IncludeMemories: body.IncludeMemories, AllowTools: body.AllowTools})
	}
}

// chatTurn runs one turn, writing its frames to the connection.
func (a *API) chatTurn(ctx context.Context, conn *websocket.Conn, req agent.ChatRequest) {
	started := false
	req.Emit = func(f agent.Frame) error {
		started = true
		return a.chatFrame(ctx, conn, f)
	}
	if _, err := a.agents.Chat(ctx, req); err != nil && !started {
		a.chatFrame(ctx, conn, agent.Frame{Type: "error", Error: gathering.ErrorMessage(err), Status: problemStatus(err)})
	}
}

// chatFrame writes one frame within the stream write timeout.
func (a *API) chatFrame(ctx context.Context, conn *websocket.Conn, f agent.Frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.Streams.WriteTimeout)
	defer cancel()
	return conn.Write(ctx, websocket.MessageText, b)
}

// errBadFrame is a client message that is not one JSON object.
var errBadFrame = errors.New("not a JSON object")

// readJSON reads one text message into v; errBadFrame when it is not JSON.
func readJSON(ctx context.Context, conn *websocket.Conn, v any) error {
	typ, b, err := conn.Read(ctx)
	if err != nil {
		return err
	}
	if typ != websocket.MessageText || json.Unmarshal(b, v) != nil {
		return errBadFrame
	}
	return nil
}
