// Package tool holds the tool registry and the single execution path that
// every caller — the HTTP API, an agent's model output, a pipeline node, a
// scheduled action — goes through.
//
// A [Tool] is registered once in a [Registry], which compiles its JSON
// Schemas (draft 2020-12 by default, no remote references). [Registry.Call]
// then resolves the tool, checks the [Caller]'s permissions, validates the
// input (reporting every violation at once as JSON pointers), runs the body
// under a timeout and validates the output when an output schema exists.
package tool
