// Package scheduler fires scheduled actions: it runs a pipeline, sends a
// notification or calls an API on a cron expression, an interval or once,
// exactly once across the instances sharing a database.
//
// # Exactly once
//
// The scheduler sleeps until the earliest due occurrence (at most a third
// of its lease, which is also its heartbeat), or until an action changes on
// any instance (announced on the event bus). It then claims due actions
// with store.ActionClaimDue: each in its own transaction that holds the
// action (FOR UPDATE SKIP LOCKED and an advisory lock on PostgreSQL),
// inserts the occurrence's run under UNIQUE (action_id, scheduled_for) and
// advances next_run_at, all or nothing. What a claim records is decided by
// plan: the catch-up policy picks which missed occurrences run (skip,
// run_once, run_all within the window, capped), the overlap policy what an
// occurrence does while an earlier one runs (skip, queue_one, allow), and
// once, end_date and max_executions expire the action.
//
// # Execution
//
// A run executes under a lease renewed by heartbeats, with its action's
// timeout. execute_pipeline starts a pipeline run and completes only when
// that run completes; send_notification and call_api call the notify and
// http tools as the action's creator, with the Idempotency-Key
// "<action_id>:<scheduled_for>". A failed run is retried after
// retry_delay_seconds up to max_retries times, then recorded failed; after
// pause_after_failures consecutive failures the action pauses. If the
// instance dies, another one recovers the run once its lease ends, as a new
// attempt. At shutdown the scheduler stops claiming, lets runs finish until
// the deadline, then releases their leases.
package scheduler
