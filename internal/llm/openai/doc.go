// Package openai is GatheRing's client for the OpenAI-compatible Chat
// Completions API: OpenAI itself and the many servers that speak its wire
// format (DeepSeek, Ollama, llama.cpp, vLLM, OpenRouter, …).
//
// [New] returns an [llm.Provider] that posts to {BaseURL}/chat/completions
// and {BaseURL}/embeddings with plain net/http and encoding/json. The API key
// travels in an "Authorization: Bearer" header, left out when the key is
// empty (local servers need none), and never appears in an error.
//
// Every failure that reached the network or the provider is an [*llm.Error]:
// a non-2xx answer carries its status, the provider's message (shortened) and
// its Retry-After; a network failure, a malformed answer or a stream that
// breaks off has Status 0. Retries, limits and the circuit breaker are not
// this package's business: wrap the provider with [llm.Resilient].
//
// A stream is read as server-sent events. Content deltas are emitted as they
// arrive; tool calls are assembled from their pieces and emitted once the
// model has finished; the usage comes from the final chunk (the client asks
// for it with stream_options.include_usage). The returned [llm.Response]
// equals what Chat returns for the same answer.
package openai
