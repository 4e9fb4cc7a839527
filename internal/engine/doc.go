// Package engine executes pipeline runs, durably and in parallel, on one
// instance or on several sharing a database.
//
// # Runs and leases
//
// [Engine.Submit] validates a pipeline and records a pending run holding a
// copy of its definition; it never executes anything in the caller's
// goroutine. Each instance's engine claims runs that need an owner (pending
// ones, and those whose owner stopped renewing its lease) with
// store.RunClaim, which hands out a lease with a fresh epoch, and drives each
// claimed run in its own goroutine. Every write a driver makes names its
// lease, so an instance that lost its lease can no longer change the run: a
// run's nodes are executed by the one instance holding it. The lease is
// renewed every third of Options.Lease; a dead instance's runs are reclaimed
// by another instance (or by the restarted one) once it ends.
//
// # Execution
//
// A driver runs every ready node (all its predecessors finished) at once,
// up to the run's max_parallel. A node runs when at least one edge into it
// is live: its source completed (or failed with on_error continue or
// default), is not a condition that evaluated to false, and the edge's own
// condition, if any, holds. A node with no live edge is skipped. Each node
// attempt is recorded as it starts and ends; a node's input is rendered from
// the outputs of its live predecessors and the run's trigger data.
//
// When a run resumes on a new lease, completed, skipped and failed nodes are
// kept, and an attempt that was running when its instance died is run again
// as the next attempt. Side-effecting nodes carry the idempotency key
// "<run_id>:<node_id>", which the http and notify tools send as the
// Idempotency-Key header, so a receiver can recognise such a repeat.
//
// # Failures
//
// A failed attempt is retried by the node's policy (or the pipeline's) when
// its error is retryable: network failures, timeouts, rate limits and 5xx
// answers. Invalid input, refused permissions, rejected approvals and the
// like fail at once. A node whose attempts are exhausted applies its
// on_error: fail (the run fails and its other nodes are cancelled), continue
// (its successors run and see its error) or default (its successors see its
// configured default output). Breakers keyed by target (a tool, an API host,
// an agent's provider) open after consecutive exhausted failures; while one
// is open, nodes on its target fail at once.
//
// # Cancellation, timeouts and approvals
//
// [Engine.Cancel] finishes the run in the database, whoever executes it, and
// tells the owning instance over the event bus so that it aborts the
// running nodes' contexts. A run past its timeout is timed_out the same
// way. An approval node records its approval and waits; the run is
// waiting_approval until [Engine.Decide] records the decision.
package engine
