// Package mcp puts the tools of MCP (Model Context Protocol) servers into
// GatheRing's tool registry.
//
// The servers come from the GATHERING_MCP_SERVERS setting ([ParseServers]):
// programs started with a clean environment and spoken to over their
// standard input and output, or Streamable HTTP endpoints. A [Client] keeps
// one session per server, in one goroutine per server, between Start and
// Stop. Each tool a server lists is registered as mcp.<server>.<tool>, its
// MCP name lower-cased with every character outside [a-z0-9_] turned into
// "_"; a name that collides with another after that, or that is too long,
// is skipped with a warning. The tool's input schema is the MCP input
// schema, so the registry rejects invalid input before the server sees it;
// its output schema, when the server gives one, describes the structured
// result.
//
// A call returns the tool's structured content when it has some and
// {"content": [...]} (the MCP content blocks) otherwise. A tool's own
// failure (an isError result or a JSON-RPC error answer) is EUNAVAILABLE
// carrying the tool's text, at most 1,000 bytes, as the message: the input
// already passed the schema, and GatheRing cannot tell whether the tool or
// the input was at fault. A server that cannot be reached is EUNAVAILABLE
// too.
//
// When a session ends (the program exits, the HTTP event stream breaks, a
// keep-alive ping fails) the server's tools stay registered but report
// EUNAVAILABLE, and the Client reconnects with exponential backoff and
// jitter, lists the tools again, registers new ones and marks those the
// server no longer offers unavailable. It lists them again as well when the
// server announces notifications/tools/list_changed. A tool keeps the
// schemas it was registered with until GatheRing restarts.
package mcp
