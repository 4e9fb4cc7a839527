package conversation

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/store"
)

// Topics returns the topics of a conversation's events: conversation:<id>,
// and circle:<name> for a circle's conversation.
func Topics(c store.Conversation) []string {
	topics := []string{"conversation:" + c.ID}
	if c.Circle != "" {
		topics = append(topics, "circle:"+c.Circle)
	}
	return topics
}

// MessageData is a message as events carry it.
type MessageData struct {
	Seq          int       `json:"seq"`
	AgentID      int64     `json:"agent_id"`
	Speaker      string    `json:"speaker"`
	Content      string    `json:"content"`
	Mentions     []int64   `json:"mentions"`
	InputTokens  int       `json:"input_tokens"`
	OutputTokens int       `json:"output_tokens"`
	Cost         float64   `json:"cost"`
	At           time.Time `json:"at"`
}

// messageData is m as events carry it.
func messageData(m store.ConversationMessage) MessageData {
	return MessageData{Seq: m.Seq, AgentID: m.AgentID, Speaker: m.Speaker, Content: m.Content, Mentions: m.Mentions,
		InputTokens: m.InputTokens, OutputTokens: m.OutputTokens, Cost: m.Cost, At: m.At}
}

// publish announces conversation.<typ> about c on its topics, by actor
// ("" for its creator), with c's id, status and turns and the extra
// fields.
func (s *Service) publish(ctx context.Context, typ string, c store.Conversation, actor string, extra map[string]any) {
	if s.bus == nil {
		return
	}
	data := map[string]any{"conversation_id": c.ID, "status": c.Status, "turns_taken": c.TurnsTaken, "max_turns": c.MaxTurns}
	for k, v := range extra {
		data[k] = v
	}
	raw, err := json.Marshal(data)
	if err == nil {
		if actor == "" {
			actor = "user:" + strconv.FormatInt(c.CreatedBy, 10)
		}
		_, err = s.bus.Publish(context.WithoutCancel(ctx), event.Event{Type: "conversation." + typ, Topics: Topics(c), Actor: actor, Data: raw})
	}
	if err != nil {
		s.opts.Logger.Warn("publishing a conversation event failed", "type", typ, "conversation_id", c.ID, "err", err)
	}
}
