// Package anthropic is the llm.Provider for the Anthropic Messages API,
// spoken directly over net/http and encoding/json.
//
// Each call is one POST {BaseURL}/v1/messages carrying the headers
// x-api-key, anthropic-version and content-type. The request maps
// llm.Request onto the API: the system prompt as "system", max_tokens from
// Request.MaxTokens (4096 when unset, since the API requires one), the tools
// with their JSON Schemas as input_schema, and the conversation as content
// blocks. An assistant message becomes a text block followed by one tool_use
// block per tool call; a tool message becomes a tool_result block (with
// is_error for a failed call) in a user message. The API wants user and
// assistant turns to alternate, so consecutive messages that map to the same
// role (the results of parallel tool calls, and the user text after them)
// are merged into one message; empty messages are left out.
//
// The answer's text blocks are concatenated into Response.Content and its
// tool_use blocks become Response.ToolCalls, their input as compact JSON
// ({} when empty). Usage.InputTokens is the whole input: the uncached
// tokens plus those read from and written to the prompt cache;
// Usage.CachedTokens are the ones read from it.
//
// Stream reads the API's server-sent events (message_start,
// content_block_start/delta/stop, message_delta, message_stop, ping, error)
// and assembles the same Response that Chat returns for the same answer. It
// emits a token delta for each piece of text and a tool-call delta when a
// tool_use block is complete. An error event ends the stream with an
// *llm.Error whose Status is the HTTP status of the error's type
// (overloaded_error is 529), or 0 for an unknown type.
//
// Every failure that reached the network is an *llm.Error, so the
// resilience layer can retry it: a non-2xx answer carries its status, the
// API's error message (at most 500 characters) and Retry-After; a network
// failure, a stalled, truncated or malformed answer has Status 0. A request
// that cannot be encoded (an unknown role, tool-call arguments that are not
// a JSON object) is an EINVALID *gathering.Error. The API key is never part
// of an error: where the API echoes it, it is replaced by [REDACTED].
//
// Anthropic offers no embeddings: Embed answers EUNSUPPORTED.
package anthropic
