// Package openaitest is a fake OpenAI-compatible server for tests: the edge
// behind which GatheRing's OpenAI client, and everything built on it, can be
// tested without a real provider.
//
// [New] starts it on loopback; give [Server.URL] to the client as its base
// URL. Script the answers with [Server.Push]: each chat request takes the
// next [Reply] and gets it in the real wire format, whole or as server-sent
// events according to the request's "stream" field (with the final usage
// chunk when stream_options.include_usage asks for it, and [DONE]). A Reply
// can also be an HTTP error with a Retry-After, a malformed or truncated
// answer, or a stall.
//
// When a chat request finds the script empty the server fails the test
// (with t.Errorf, naming the request) and answers 500, so an unexpected
// model call never goes unnoticed; [Server.SetFallback] sets a reply to give
// instead, for tests that do not count calls.
//
// Every request is recorded, decoded, for assertions ([Server.Requests]).
// [Server.RequireKey] makes the server check the bearer token. Embeddings
// are not scripted: /embeddings answers deterministic unit vectors derived
// from a hash of each input ([Embedding]).
package openaitest
