package openai

import (
	"context"

	"github.com/gathering/gathering/internal/llm"
)

// Chat implements llm.Provider.
func (c *client) Chat(ctx context.Context, req llm.Request) (llm.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.post(ctx, "/chat/completions", newChatRequest(req, false))
	if err != nil {
		return llm.Response{}, err
	}
	defer resp.Body.Close()
	var out chatResponse
	if err := c.decode(ctx, resp, &out); err != nil {
		return llm.Response{}, err
	}
	if len(out.Choices) == 0 {
		return llm.Response{}, c.malformed("the response has no choices", nil)
	}
	ch := out.Choices[0]
	return llm.Response{
		Content:    deref(ch.Message.Content),
		ToolCalls:  decodeToolCalls(ch.Message.ToolCalls),
		Usage:      out.Usage.usage(),
		Model:      out.Model,
		StopReason: ch.FinishReason,
	}, nil
}

// deref returns *s, or "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
