// Package pipeline defines pipelines — DAG workflows whose nodes run agents,
// tools, conditions, actions, delays and human approvals — and checks them
// before they are activated or run.
//
// A [Definition] is decoded from the JSON the API stores verbatim with
// [Parse] and checked with [Validate], which reports every [Problem] at once:
// node configs against their type's JSON Schema (located by JSON pointer),
// edges, cycles (named by their path, a → b → a), templates, expressions and
// references to agents and tools.
//
// The package also holds what an engine needs to run a valid definition:
// the [Graph] (predecessors, successors, roots, ancestors), template
// rendering ([Render], [RenderJSON]) and boolean expressions ([Compile],
// [Program.Eval]) written in expr-lang over an [Env]. It executes nothing
// itself.
package pipeline
