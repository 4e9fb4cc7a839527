package httpapi

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/agent"
)

// ChatRequest is the body of POST /agents/{id}/chat.
type ChatRequest struct {
	Message         string `json:"message"`
	SessionID       string `json:"session_id,omitempty" doc:"Continue this session; omit to start one."`
	IncludeMemories bool   `json:"include_memories,omitempty"`
	AllowTools      bool   `json:"allow_tools,omitempty" doc:"Offer the agent's enabled skills to the model."`
}

// chat runs one turn, answered as JSON or, when the client accepts
// text/event-stream, as a stream of frames.
func (a *API) chat(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body ChatRequest
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	req := agent.ChatRequest{AgentID: id, UserID: principalID(r), Message: body.Message, SessionID: body.SessionID,
		IncludeMemories: body.IncludeMemories, AllowTools: body.AllowTools}
	// A turn may outlast the server's write timeout: its answer gets the
	// turn's own limit, and a margin.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(a.agents.TurnTimeout() + writeMargin))
	if !wantsEventStream(r) {
		res, err := a.agents.Chat(r.Context(), req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, res)
		return nil
	}
	return a.streamChat(w, r, req)
}

func wantsEventStream(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		if mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part)); mt == "text/event-stream" {
			return true
		}
	}
	return false
}

// streamChat answers a turn as server-sent events, one per frame. Failures
// before the first frame are ordinary problem responses; later ones are an
// error frame.
func (a *API) streamChat(w http.ResponseWriter, r *http.Request, req agent.ChatRequest) error {
	rc := http.NewResponseController(w)
	started := false
	req.Emit = func(f agent.Frame) error {
		if !started {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Set("Cache-Control", "no-cache")
			w.WriteHeader(http.StatusOK)
			started = true
		}
		data, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", f.Type, data); err != nil {
			return err
		}
		return rc.Flush()
	}
	_, err := a.agents.Chat(r.Context(), req)
	if started {
		return nil // the error, if any, went out as an error frame
	}
	return err
}
