package memory

import (
	"context"
	"strings"

	"github.com/gathering/gathering/internal/store"
)

// ChatThreshold is the least similarity of a memory an AgentRecaller
// recalls: below it a memory shares next to nothing with the message and
// would only crowd the context.
const ChatThreshold = 0.1

// AgentRecaller recalls an agent's own memories (scope agent) for its chat
// turns; it implements agent.Recaller over Recall. Recall's refusal of
// entries made by another embedder (ECONFLICT, re-embed them first) is
// passed on.
type AgentRecaller struct {
	Store    Store
	Embedder Embedder
}

// Recall returns the contents of at most limit of the agent's memories
// most like text (at least ChatThreshold alike), best first. A limit
// beyond MaxLimit is MaxLimit, one below 1 DefaultLimit; a blank text
// recalls nothing.
func (r AgentRecaller) Recall(ctx context.Context, agentID int64, text string, limit int) ([]string, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	rs, err := Recall(ctx, r.Store, r.Embedder, Query{
		Filter:    store.MemoryFilter{Scope: store.ScopeAgent, AgentID: agentID},
		Text:      text,
		Limit:     min(max(limit, 0), MaxLimit),
		Threshold: ChatThreshold,
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rs))
	for i, res := range rs {
		out[i] = res.Memory.Content
	}
	return out, nil
}
