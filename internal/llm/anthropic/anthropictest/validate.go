package anthropictest

import (
	"encoding/json"
	"fmt"
	"slices"
)

// wireRequest is what the server reads of a request body.
type wireRequest struct {
	Model     string        `json:"model"`
	MaxTokens int           `json:"max_tokens"`
	Stream    bool          `json:"stream"`
	Messages  []wireMessage `json:"messages"`
}

// wireMessage is one message of a request.
type wireMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// wireBlock is what the server reads of a content block.
type wireBlock struct {
	Type      string  `json:"type"`
	Text      *string `json:"text"`
	ID        string  `json:"id"`
	ToolUseID string  `json:"tool_use_id"`
}

// validate returns what is wrong with req, or "".
func validate(req *wireRequest) string {
	switch {
	case req.Model == "":
		return "model: Field required"
	case req.MaxTokens < 1:
		return "max_tokens: Field required, at least 1"
	case len(req.Messages) == 0:
		return "messages: at least one message is required"
	}
	var open []string // the tool_use ids the previous message asked for
	for i, m := range req.Messages {
		blocks, msg := checkMessage(i, m)
		if msg != "" {
			return msg
		}
		if msg := checkAnswers(i, m.Role, open, blocks); msg != "" {
			return msg
		}
		open = toolUses(m.Role, blocks)
	}
	return ""
}

// checkMessage checks the role and the blocks of message i.
func checkMessage(i int, m wireMessage) ([]wireBlock, string) {
	want := [2]string{"user", "assistant"}[i%2]
	if m.Role != want {
		return nil, fmt.Sprintf("messages.%d: roles must alternate between \"user\" and \"assistant\", starting with \"user\"; got %q", i, m.Role)
	}
	blocks, err := contentBlocks(m.Content)
	if err != nil || len(blocks) == 0 {
		return nil, fmt.Sprintf("messages.%d.content: a string or a non-empty list of content blocks is required", i)
	}
	for j, b := range blocks {
		if b.Type == "text" && (b.Text == nil || *b.Text == "") {
			return nil, fmt.Sprintf("messages.%d.content.%d: text content blocks must be non-empty", i, j)
		}
	}
	return blocks, ""
}

// contentBlocks reads content, a string or a list of blocks.
func contentBlocks(content json.RawMessage) ([]wireBlock, error) {
	var text string
	if json.Unmarshal(content, &text) == nil {
		return []wireBlock{{Type: "text", Text: &text}}, nil
	}
	var blocks []wireBlock
	err := json.Unmarshal(content, &blocks)
	return blocks, err
}

// checkAnswers checks that the tool_result blocks of message i come first
// and answer each tool_use id open after the previous message once.
func checkAnswers(i int, role string, open []string, blocks []wireBlock) string {
	answered := map[string]bool{}
	for j, b := range blocks {
		switch {
		case b.Type != "tool_result":
			continue
		case j > len(answered):
			return fmt.Sprintf("messages.%d.content.%d: tool_result blocks must come before any other content", i, j)
		case role != "user" || !slices.Contains(open, b.ToolUseID) || answered[b.ToolUseID]:
			return fmt.Sprintf("messages.%d: unexpected tool_use_id %q in tool_result blocks: each tool_result block must answer one tool_use block of the previous message", i, b.ToolUseID)
		}
		answered[b.ToolUseID] = true
	}
	for _, id := range open {
		if !answered[id] {
			return fmt.Sprintf("messages.%d: tool_use ids were found without tool_result blocks immediately after: %s", i, id)
		}
	}
	return ""
}

// toolUses lists the tool_use ids of an assistant message.
func toolUses(role string, blocks []wireBlock) []string {
	var ids []string
	for _, b := range blocks {
		if role == "assistant" && b.Type == "tool_use" {
			ids = append(ids, b.ID)
		}
	}
	return ids
}
