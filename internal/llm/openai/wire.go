package openai

import (
	"encoding/json"

	"github.com/gathering/gathering/internal/llm"
)

// chatRequest is the body of POST /chat/completions.
type chatRequest struct {
	Model         string         `json:"model"`
	Messages      []wireMessage  `json:"messages"`
	Tools         []wireTool     `json:"tools,omitempty"`
	Temperature   *float64       `json:"temperature,omitempty"`
	MaxTokens     int            `json:"max_tokens,omitempty"`
	Stream        bool           `json:"stream,omitempty"`
	StreamOptions *streamOptions `json:"stream_options,omitempty"`
}

// streamOptions asks for the usage in a stream's final chunk.
type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// wireMessage is a message as the API writes it, in both directions.
// Content is null in an assistant message that only calls tools.
type wireMessage struct {
	Role       string         `json:"role,omitempty"`
	Content    *string        `json:"content"`
	ToolCalls  []wireToolCall `json:"tool_calls,omitempty"`
	ToolCallID string         `json:"tool_call_id,omitempty"`
}

// wireToolCall is a function call; in a stream, pieces of one, joined by
// Index.
type wireToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function wireFunction `json:"function"`
}

// wireFunction names the function and carries its arguments as a JSON
// string.
type wireFunction struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// wireTool offers a function to the model.
type wireTool struct {
	Type     string      `json:"type"`
	Function wireToolDef `json:"function"`
}

// wireToolDef describes an offered function.
type wireToolDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
}

// chatResponse is a whole answer or one stream chunk.
type chatResponse struct {
	Model   string          `json:"model"`
	Choices []wireChoice    `json:"choices"`
	Usage   *wireUsage      `json:"usage"`
	Error   json.RawMessage `json:"error"` // an error reported inside a stream
}

// wireChoice is one choice: Message in a whole answer, Delta in a chunk.
type wireChoice struct {
	Index        int         `json:"index"`
	Message      wireMessage `json:"message"`
	Delta        wireMessage `json:"delta"`
	FinishReason string      `json:"finish_reason"`
}

// wireUsage counts tokens; the cached ones come from
// prompt_tokens_details.cached_tokens (OpenAI) or prompt_cache_hit_tokens
// (DeepSeek).
type wireUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	PromptCacheHitTokens int `json:"prompt_cache_hit_tokens"`
}

// usage converts u; a nil u is no usage.
func (u *wireUsage) usage() llm.Usage {
	if u == nil {
		return llm.Usage{}
	}
	cached := u.PromptCacheHitTokens
	if d := u.PromptTokensDetails; d != nil && d.CachedTokens > 0 {
		cached = d.CachedTokens
	}
	return llm.Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, CachedTokens: cached}
}

// emptyObject stands for arguments or parameters left empty.
const emptyObject = "{}"

// newChatRequest encodes req; a stream asks for the usage too.
func newChatRequest(req llm.Request, stream bool) chatRequest {
	out := chatRequest{
		Model:       req.Model,
		Messages:    encodeMessages(req.System, req.Messages),
		Tools:       encodeTools(req.Tools),
		Temperature: req.Temperature,
		MaxTokens:   req.MaxTokens,
		Stream:      stream,
	}
	if stream {
		out.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	return out
}

// encodeMessages puts the system prompt first, then the conversation.
func encodeMessages(system string, msgs []llm.Message) []wireMessage {
	out := make([]wireMessage, 0, len(msgs)+1)
	if system != "" {
		out = append(out, wireMessage{Role: "system", Content: &system})
	}
	for _, m := range msgs {
		out = append(out, encodeMessage(m))
	}
	return out
}

// encodeMessage encodes one message; an assistant message that only calls
// tools has null content.
func encodeMessage(m llm.Message) wireMessage {
	w := wireMessage{Role: string(m.Role), ToolCallID: m.ToolCallID}
	if m.Content != "" || len(m.ToolCalls) == 0 {
		w.Content = &m.Content
	}
	for _, tc := range m.ToolCalls {
		w.ToolCalls = append(w.ToolCalls, wireToolCall{
			ID:       tc.ID,
			Type:     "function",
			Function: wireFunction{Name: tc.Name, Arguments: orEmptyObject(string(tc.Arguments))},
		})
	}
	return w
}

// encodeTools offers the tools as functions.
func encodeTools(tools []llm.ToolSpec) []wireTool {
	var out []wireTool
	for _, t := range tools {
		params := t.Parameters
		if len(params) == 0 {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out = append(out, wireTool{Type: "function", Function: wireToolDef{Name: t.Name, Description: t.Description, Parameters: params}})
	}
	return out
}

// decodeToolCalls converts the tool calls of a whole answer.
func decodeToolCalls(calls []wireToolCall) []llm.ToolCall {
	var out []llm.ToolCall
	for _, tc := range calls {
		out = append(out, newToolCall(tc.ID, tc.Function.Name, tc.Function.Arguments))
	}
	return out
}

// newToolCall builds a call; empty arguments become {}.
func newToolCall(id, name, args string) llm.ToolCall {
	return llm.ToolCall{ID: id, Name: name, Arguments: json.RawMessage(orEmptyObject(args))}
}

// orEmptyObject returns s, or {} when s is empty.
func orEmptyObject(s string) string {
	if s == "" {
		return emptyObject
	}
	return s
}
