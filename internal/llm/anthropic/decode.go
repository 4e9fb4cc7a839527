package anthropic

import (
	"encoding/json"
	"strings"

	"github.com/gathering/gathering/internal/llm"
)

// wireResponse is the answer of POST /v1/messages, and the message of a
// stream's message_start event.
type wireResponse struct {
	Model      string      `json:"model"`
	Content    []respBlock `json:"content"`
	StopReason string      `json:"stop_reason"`
	Usage      wireUsage   `json:"usage"`
}

// respBlock is one content block of an answer; blocks other than text and
// tool_use are ignored.
type respBlock struct {
	Type  string          `json:"type"`
	Text  string          `json:"text"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

// wireUsage is the token count of an answer.
type wireUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
}

// usage is u as llm.Usage, whose InputTokens include the cached ones.
func (u wireUsage) usage() llm.Usage {
	return llm.Usage{
		InputTokens:  u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens,
		OutputTokens: u.OutputTokens,
		CachedTokens: u.CacheReadInputTokens,
	}
}

// response is m as an llm.Response.
func (m wireResponse) response() llm.Response {
	out := llm.Response{Model: m.Model, StopReason: m.StopReason, Usage: m.Usage.usage()}
	var text strings.Builder
	for _, b := range m.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "tool_use":
			args, _ := arguments(b.Input) // valid JSON, since it was decoded
			out.ToolCalls = append(out.ToolCalls, llm.ToolCall{ID: b.ID, Name: b.Name, Arguments: args})
		}
	}
	out.Content = text.String()
	return out
}
