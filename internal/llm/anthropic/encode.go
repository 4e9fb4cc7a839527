package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
)

// wireRequest is the body of POST /v1/messages.
type wireRequest struct {
	Model       string        `json:"model"`
	MaxTokens   int           `json:"max_tokens"`
	System      string        `json:"system,omitempty"`
	Temperature *float64      `json:"temperature,omitempty"`
	Tools       []wireTool    `json:"tools,omitempty"`
	Messages    []wireMessage `json:"messages"`
	Stream      bool          `json:"stream,omitempty"`
}

// wireTool offers one tool.
type wireTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

// wireMessage is one turn of the conversation.
type wireMessage struct {
	Role    string      `json:"role"`
	Content []wireBlock `json:"content"`
}

// wireBlock is one content block of a request: text, tool_use or
// tool_result.
type wireBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   string          `json:"content,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
}

// encodeRequest returns the JSON body for req.
func encodeRequest(req llm.Request, stream bool) ([]byte, error) {
	msgs, err := encodeMessages(req.Messages)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(wireRequest{
		Model:       req.Model,
		MaxTokens:   maxTokens(req.MaxTokens),
		System:      req.System,
		Temperature: req.Temperature,
		Tools:       encodeTools(req.Tools),
		Messages:    msgs,
		Stream:      stream,
	})
	if err != nil {
		return nil, &gathering.Error{Code: gathering.EINVALID, Message: "The model request cannot be encoded.", Err: err}
	}
	return body, nil
}

// maxTokens is n, or DefaultMaxTokens when n is not positive.
func maxTokens(n int) int {
	if n <= 0 {
		return DefaultMaxTokens
	}
	return n
}

// encodeTools maps the tool specs; a tool without a schema takes any
// object.
func encodeTools(specs []llm.ToolSpec) []wireTool {
	var out []wireTool
	for _, s := range specs {
		schema := s.Parameters
		if len(bytes.TrimSpace(schema)) == 0 {
			schema = json.RawMessage(`{"type":"object"}`)
		}
		out = append(out, wireTool{Name: s.Name, Description: s.Description, InputSchema: schema})
	}
	return out
}

// encodeMessages maps the conversation, merging consecutive messages of
// one role and leaving out empty ones.
func encodeMessages(msgs []llm.Message) ([]wireMessage, error) {
	var out []wireMessage
	for i, m := range msgs {
		role, blocks, err := encodeMessage(m)
		if err != nil {
			return nil, gathering.Errorf(gathering.EINVALID, "Message %d of the model request: %s", i, err)
		}
		switch n := len(out); {
		case len(blocks) == 0:
		case n > 0 && out[n-1].Role == role:
			out[n-1].Content = append(out[n-1].Content, blocks...)
		default:
			out = append(out, wireMessage{Role: role, Content: blocks})
		}
	}
	return out, nil
}

// encodeMessage returns the API role and the content blocks of m.
func encodeMessage(m llm.Message) (string, []wireBlock, error) {
	switch m.Role {
	case llm.RoleUser:
		return "user", textBlocks(m.Content), nil
	case llm.RoleTool:
		return "user", []wireBlock{{Type: "tool_result", ToolUseID: m.ToolCallID, Content: m.Content, IsError: m.IsError}}, nil
	case llm.RoleAssistant:
		blocks, err := assistantBlocks(m)
		return "assistant", blocks, err
	}
	return "", nil, fmt.Errorf("unknown role %q", m.Role)
}

// textBlocks is one text block, or none for empty text (the API refuses
// empty text blocks).
func textBlocks(text string) []wireBlock {
	if text == "" {
		return nil
	}
	return []wireBlock{{Type: "text", Text: text}}
}

// assistantBlocks is the text of m followed by its tool calls.
func assistantBlocks(m llm.Message) ([]wireBlock, error) {
	blocks := textBlocks(m.Content)
	for _, tc := range m.ToolCalls {
		input, ok := toolInput(tc.Arguments)
		if !ok {
			return nil, fmt.Errorf("the arguments of tool call %q are not a JSON object", tc.ID)
		}
		blocks = append(blocks, wireBlock{Type: "tool_use", ID: tc.ID, Name: tc.Name, Input: input})
	}
	return blocks, nil
}

// toolInput is args as the input of a tool_use block: a JSON object, {}
// when args are empty or null. It reports whether args are such.
func toolInput(args json.RawMessage) (json.RawMessage, bool) {
	input, err := arguments(args)
	if err != nil || input[0] != '{' {
		return nil, false
	}
	return input, true
}

// arguments is raw compacted, or {} when raw is empty or null.
func arguments(raw []byte) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage(`{}`), nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
