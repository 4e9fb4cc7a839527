// Package llm is GatheRing's seam to language-model providers: one Provider
// interface for chat, streaming and embeddings, the wire-format clients
// behind it (the OpenAI-compatible Chat Completions API and the Anthropic
// Messages API), and the resilience every provider call gets: retries with
// backoff that honour Retry-After, a concurrency limit per provider and a
// circuit breaker per endpoint.
package llm

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
)

// Role is who speaks in a message.
type Role string

// The roles of a conversation. The system prompt is Request.System, not a
// message.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool" // the result of a tool call
)

// Message is one turn of a conversation.
type Message struct {
	Role    Role   `json:"role"`
	Content string `json:"content,omitempty"`
	// ToolCalls are the calls an assistant message asks for.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID names the call a tool message answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
	// IsError marks a tool message that reports a failed call.
	IsError bool `json:"is_error,omitempty"`
}

// ToolCall is a model's request to call a tool.
type ToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"` // a JSON object, as the model wrote it
}

// ToolSpec offers a tool to the model.
type ToolSpec struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"` // JSON Schema of the arguments
}

// Request is one model call.
type Request struct {
	Model       string
	System      string
	Messages    []Message
	Tools       []ToolSpec
	Temperature *float64 // nil: the provider's default
	MaxTokens   int      // 0: the provider's default (Anthropic requires one: 4096 is used)
}

// Usage is what a call consumed.
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
	// CachedTokens are input tokens served from the provider's prompt
	// cache (included in InputTokens).
	CachedTokens int `json:"cached_tokens"`
}

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{u.InputTokens + v.InputTokens, u.OutputTokens + v.OutputTokens, u.CachedTokens + v.CachedTokens}
}

// Response is a model's complete answer to one call.
type Response struct {
	Content    string
	ToolCalls  []ToolCall
	Usage      Usage
	Model      string // the model that answered, as the provider names it
	StopReason string // the provider's own word: stop, end_turn, tool_calls, tool_use, length, …
}

// DeltaKind says what a streamed Delta carries.
type DeltaKind string

// The kinds of streamed deltas.
const (
	DeltaToken    DeltaKind = "token"     // Text is the next piece of content
	DeltaToolCall DeltaKind = "tool_call" // ToolCall is complete (its arguments assembled)
)

// Delta is one piece of a streamed answer.
type Delta struct {
	Kind     DeltaKind
	Text     string
	ToolCall ToolCall
}

// Provider is one configured model provider endpoint. Implementations are
// safe for concurrent use.
type Provider interface {
	// Name is the provider's configured name ("openai", "anthropic", a
	// custom endpoint's name).
	Name() string
	// Chat sends req and returns the whole answer.
	Chat(ctx context.Context, req Request) (Response, error)
	// Stream sends req, calls emit for each delta as it arrives and returns
	// the assembled answer, which equals what Chat would have returned,
	// usage included. An error from emit ends the stream with that error.
	Stream(ctx context.Context, req Request, emit func(Delta) error) (Response, error)
	// Embed returns one vector per input.
	Embed(ctx context.Context, model string, inputs []string) ([][]float32, Usage, error)
}

// Error is a failed provider call. Clients return it for every failure
// that reached the provider or the network, so the resilience layer can
// decide to retry.
type Error struct {
	Provider   string
	Status     int           // HTTP status; 0 for a network failure or a broken stream
	Message    string        // the provider's message, shortened; never a credential
	RetryAfter time.Duration // from Retry-After, when the provider sent one
	Err        error         // the network error, if any
}

// Error implements error.
func (e *Error) Error() string {
	s := e.Provider + ": "
	if e.Status != 0 {
		s += "HTTP " + strconv.Itoa(e.Status) + ": "
	}
	s += e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the network error.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the call may succeed when repeated: 408, 409,
// 429, 5xx, and network failures.
func (e *Error) Retryable() bool {
	switch {
	case e.Status == 0, e.Status == 408, e.Status == 409, e.Status == 429, e.Status >= 500:
		return true
	}
	return false
}
