// Package anthropictest is a fake Anthropic Messages API for tests: an
// HTTP server on loopback that answers POST /v1/messages from a script of
// replies, in the API's wire format, and records every request.
//
//	s := anthropictest.New(t)
//	s.Push(anthropictest.Reply{Content: "Hello"})
//	p := anthropic.New(anthropic.Config{BaseURL: s.URL(), HTTPClient: s.Client()})
//	resp, err := p.Chat(ctx, llm.Request{Model: "claude-test", Messages: msgs})
//	body := s.Requests()[0].Body
//
// Each request takes the next Reply of the script and is answered as a
// stream of server-sent events when its body says "stream": true (with a
// ping event and message_delta usage, as the API sends them), else as one
// JSON message. A request that arrives when the script is empty fails the
// test (t.Errorf, naming the request) and gets a 500 api_error answer, so
// a test must Push one Reply for each model call it expects.
//
// Before taking a Reply the server checks the request as the API would,
// and answers 400 invalid_request_error without consuming the script when
// it is wrong: the anthropic-version header is missing, model or
// max_tokens is missing, there are no messages, the roles do not alternate
// between user and assistant starting with user, a text block is empty, or
// the tool_use blocks of an assistant message and the tool_result blocks of
// the user message after it do not answer each other. The fake is stricter
// than the API about alternation, which today merges consecutive turns
// itself, so that clients are held to the documented format. With
// RequireKey, a request without that x-api-key gets 401
// authentication_error.
package anthropictest
