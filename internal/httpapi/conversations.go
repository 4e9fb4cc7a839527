package httpapi

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/gathering/gathering/internal/conversation"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// conversationBodyLimit bounds a conversation or prompt request: a prompt
// of at most 20,000 characters, escaped at worst to 12 bytes each, and the
// other fields.
const conversationBodyLimit = 256 << 10

// conversationRoutes are the conversations between agents; none without a
// service.
func (a *API) conversationRoutes() []Route {
	if a.conversations == nil {
		return nil
	}
	const tag = "conversations"
	op := func(name string, status int, f func(context.Context, string) (store.Conversation, error), summary string) Route {
		return Route{Method: "POST", Pattern: "/conversations/{id}/" + name, Access: Member, Handler: HandlerFunc(a.conversationOperation(status, f)),
			Response: ConversationResponse{}, Status: status, Tag: tag, Summary: summary}
	}
	return []Route{
		{Method: "GET", Pattern: "/conversations", Access: Viewer, Handler: HandlerFunc(a.listConversations), Response: List[ConversationResponse]{}, Tag: tag, Summary: "Conversations, newest first (?status=)"},
		{Method: "POST", Pattern: "/conversations", Access: Member, Handler: HandlerFunc(a.createConversation), Request: ConversationRequest{}, Response: ConversationResponse{}, Status: http.StatusCreated, BodyLimit: conversationBodyLimit, Tag: tag, Summary: "Create a conversation between agents: 201 pending, to start"},
		{Method: "GET", Pattern: "/conversations/{id}", Access: Viewer, Handler: HandlerFunc(a.getConversation), Response: ConversationDetailResponse{}, Tag: tag, Summary: "One conversation, with its participants' names"},
		{Method: "DELETE", Pattern: "/conversations/{id}", Access: Member, Handler: HandlerFunc(a.deleteConversation), Status: http.StatusNoContent, Tag: tag, Summary: "Delete a conversation and its messages (409 while active)"},
		op("start", http.StatusAccepted, a.conversations.Begin, "Start a pending conversation: 202, it runs on its own; follow its events or WS /ws/conversation/{id} (409 unless pending)"),
		{Method: "POST", Pattern: "/conversations/{id}/advance", Access: Member, Handler: HandlerFunc(a.advanceConversation), Request: ConversationAdvanceRequest{}, Response: ConversationResponse{}, Status: http.StatusAccepted, BodyLimit: conversationBodyLimit, Tag: tag, Summary: "Add your prompt and more turns to an active or completed conversation: 202, it goes on (409 otherwise)"},
		op("cancel", http.StatusOK, a.conversations.Cancel, "Cancel a pending or active conversation at once, even mid-turn (409 when it has ended)"),
		{Method: "GET", Pattern: "/conversations/{id}/transcript", Access: Viewer, Handler: HandlerFunc(a.conversationTranscript), Response: ConversationTranscriptResponse{}, Tag: tag, Summary: "The conversation as plain text, one \"speaker: content\" entry a line"},
		{Method: "GET", Pattern: "/conversations/{id}/messages", Access: Viewer, Handler: HandlerFunc(a.listConversationMessages), Response: List[ConversationMessageResponse]{}, Tag: tag, Summary: "The conversation's messages in order, with their usage (limit, offset)"},
		{Method: "GET", Pattern: "/ws/conversation/{id}", Access: Viewer, WebSocket: a.serveConversation, Tag: tag, Summary: "Follow a conversation over a WebSocket: its messages so far, each new one, then its end; closes with 4404 for an unknown conversation"},
	}
}

// ConversationRequest creates a conversation. Absent fields take their
// defaults.
type ConversationRequest struct {
	Topic           string  `json:"topic" doc:"1 to 500 characters."`
	Circle          string  `json:"circle,omitempty" doc:"A circle; every agent must be one of its members."`
	AgentIDs        []int64 `json:"agent_ids" doc:"2 to 10 distinct agents with distinct names, in round-robin order."`
	MaxTurns        int     `json:"max_turns,omitempty" doc:"Agents' turns: 1 to 50; 10 when absent."`
	InitialPrompt   string  `json:"initial_prompt,omitempty" doc:"At most 20000 characters; every turn sees it."`
	TurnStrategy    string  `json:"turn_strategy,omitempty" enum:"round_robin,mention_based,free_form,selector" doc:"Who speaks next; round_robin when absent."`
	SelectorAgentID int64   `json:"selector_agent_id,omitempty" doc:"selector only: the agent asked to name each speaker; the first participant when absent."`
}

// ConversationAdvanceRequest adds a human's prompt to a conversation.
type ConversationAdvanceRequest struct {
	Prompt string `json:"prompt" doc:"1 to 20000 characters; @name mentions a participant."`
	Turns  int    `json:"turns" doc:"More agents' turns: 1 to 50; a conversation takes at most 500 in all."`
}

// ConversationResponse is a conversation.
type ConversationResponse struct {
	ID              string    `json:"id"`
	Topic           string    `json:"topic"`
	Circle          string    `json:"circle,omitempty"`
	AgentIDs        []int64   `json:"agent_ids"`
	SelectorAgentID int64     `json:"selector_agent_id,omitempty"`
	MaxTurns        int       `json:"max_turns"`
	InitialPrompt   string    `json:"initial_prompt"`
	TurnStrategy    string    `json:"turn_strategy" enum:"round_robin,mention_based,free_form,selector"`
	Status          string    `json:"status" enum:"pending,active,completed,cancelled,failed"`
	TurnsTaken      int       `json:"turns_taken"`
	MessageCount    int       `json:"message_count" doc:"Agents' turns and humans' prompts."`
	Summary         string    `json:"summary,omitempty"`
	ErrorCode       string    `json:"error_code,omitempty"`
	Error           string    `json:"error,omitempty"`
	CreatedBy       int64     `json:"created_by"`
	CreatedAt       time.Time `json:"created_at"`
	StartedAt       time.Time `json:"started_at,omitzero"`
	CompletedAt     time.Time `json:"completed_at,omitzero" doc:"When it ended: completed, cancelled or failed."`
}

// ConversationDetailResponse is a conversation with its participants.
type ConversationDetailResponse struct {
	ConversationResponse
	Participants []ConversationParticipant `json:"participants"`
}

// ConversationParticipant is an agent of a conversation.
type ConversationParticipant struct {
	AgentID int64  `json:"agent_id"`
	Name    string `json:"name" doc:"Empty when the agent no longer exists."`
}

// ConversationMessageResponse is one message: an agent's turn, or a
// human's prompt (agent_id 0).
type ConversationMessageResponse struct {
	Seq      int       `json:"seq"`
	AgentID  int64     `json:"agent_id"`
	Speaker  string    `json:"speaker"`
	Content  string    `json:"content"`
	Mentions []int64   `json:"mentions" doc:"The participants it names with @name."`
	Usage    TaskUsage `json:"usage"`
	At       time.Time `json:"at"`
}

// ConversationTranscriptResponse is a conversation as plain text.
type ConversationTranscriptResponse struct {
	ConversationID string `json:"conversation_id"`
	Topic          string `json:"topic"`
	Transcript     string `json:"transcript" doc:"One \"speaker: content\" entry a line."`
}

func conversationResponse(c store.Conversation) ConversationResponse {
	return ConversationResponse{
		ID: c.ID, Topic: c.Topic, Circle: c.Circle, AgentIDs: c.AgentIDs, SelectorAgentID: c.SelectorAgentID,
		MaxTurns: c.MaxTurns, InitialPrompt: c.InitialPrompt, TurnStrategy: string(c.Strategy), Status: string(c.Status),
		TurnsTaken: c.TurnsTaken, MessageCount: c.MessageCount, Summary: c.Summary, ErrorCode: c.ErrorCode, Error: c.Error,
		CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, StartedAt: c.StartedAt, CompletedAt: c.CompletedAt,
	}
}

func conversationMessageResponse(m store.ConversationMessage) ConversationMessageResponse {
	if m.Mentions == nil {
		m.Mentions = []int64{}
	}
	return ConversationMessageResponse{Seq: m.Seq, AgentID: m.AgentID, Speaker: m.Speaker, Content: m.Content,
		Mentions: m.Mentions, At: m.At,
		Usage: TaskUsage{InputTokens: m.InputTokens, OutputTokens: m.OutputTokens, Cost: m.Cost}}
}

func (a *API) createConversation(w http.ResponseWriter, r *http.Request) error {
	var q ConversationRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	c, err := a.conversations.Create(r.Context(), conversation.NewConversation{Topic: q.Topic, Circle: q.Circle,
		AgentIDs: q.AgentIDs, SelectorAgentID: q.SelectorAgentID, MaxTurns: q.MaxTurns, InitialPrompt: q.InitialPrompt,
		Strategy: store.TurnStrategy(q.TurnStrategy), CreatedBy: principalID(r)})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/conversations/"+c.ID)
	writeJSON(w, http.StatusCreated, conversationResponse(c))
	return nil
}

func (a *API) listConversations(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	f := store.ConversationFilter{Status: store.ConversationStatus(r.URL.Query().Get("status"))}
	statuses := []store.ConversationStatus{store.ConversationPending, store.ConversationActive, store.ConversationCompleted,
		store.ConversationCancelled, store.ConversationFailed}
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		return gathering.Invalid("The query is invalid.", gathering.FieldError{Field: "status",
			Message: "must be pending, active, completed, cancelled or failed"})
	}
	list, total, err := a.store.ConversationList(r.Context(), f, pg)
	if err != nil {
		return err
	}
	out := List[ConversationResponse]{Items: make([]ConversationResponse, 0, len(list)), Total: total}
	for _, c := range list {
		out.Items = append(out.Items, conversationResponse(c))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getConversation(w http.ResponseWriter, r *http.Request) error {
	c, err := a.store.ConversationGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ps, err := a.conversations.Participants(r.Context(), c)
	if err != nil {
		return err
	}
	out := ConversationDetailResponse{ConversationResponse: conversationResponse(c), Participants: make([]ConversationParticipant, 0, len(ps))}
	for _, p := range ps {
		out.Participants = append(out.Participants, ConversationParticipant{AgentID: p.AgentID, Name: p.Name})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) deleteConversation(w http.ResponseWriter, r *http.Request) error {
	if err := a.conversations.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) advanceConversation(w http.ResponseWriter, r *http.Request) error {
	var q ConversationAdvanceRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	p, _ := principal(r.Context())
	c, _, err := a.conversations.Advance(r.Context(), r.PathValue("id"), conversation.Prompt{Text: q.Prompt, Turns: q.Turns,
		Speaker: cmp.Or(p.User.Name, p.Email, "user"), UserID: p.UserID})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, conversationResponse(c))
	return nil
}

// conversationOperation answers a start or a cancel with the conversation
// as it is after it.
func (a *API) conversationOperation(status int, op func(context.Context, string) (store.Conversation, error)) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := op(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, status, conversationResponse(c))
		return nil
	}
}

// allConversationMessages reads every message of a conversation, page by
// page.
func (a *API) allConversationMessages(ctx context.Context, id string) ([]store.ConversationMessage, error) {
	const pageSize = 500
	var out []store.ConversationMessage
	for {
		page, total, err := a.store.ConversationMessages(ctx, id, store.Page{Limit: pageSize, Offset: len(out)})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) == 0 || len(out) >= total {
			return out, nil
		}
	}
}

func (a *API) conversationTranscript(w http.ResponseWriter, r *http.Request) error {
	c, err := a.store.ConversationGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	msgs, err := a.allConversationMessages(r.Context(), c.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ConversationTranscriptResponse{ConversationID: c.ID, Topic: c.Topic,
		Transcript: conversation.Transcript(msgs)})
	return nil
}

func (a *API) listConversationMessages(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	c, err := a.store.ConversationGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	msgs, total, err := a.store.ConversationMessages(r.Context(), c.ID, pg)
	if err != nil {
		return err
	}
	out := List[ConversationMessageResponse]{Items: make([]ConversationMessageResponse, 0, len(msgs)), Total: total}
	for _, m := range msgs {
		out.Items = append(out.Items, conversationMessageResponse(m))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
