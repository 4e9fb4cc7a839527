// Package scheduler fires scheduled actions: it runs a pipeline, sends a
// notification or calls an API on a cron expression, an interval, once or
// on events, exactly once across the instances sharing a database.
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
// # Events
//
// An event action's event_trigger is {"type": <pattern>, "topics"?:
// [<entry>, …]} in the bus's filter syntax (event.Filter): an exact type,
// a prefix such as "pipeline.*", or "*"; an event matches when its type
// does and, with topics, one of its topics matches an entry. Each
// instance's event listener hears every event (every instance receives
// every event) and keeps the active event actions in memory, read again
// after an action changes on any instance. An event that matches an
// action within its start and end dates fires it: ActionFire records a
// pending run triggered by event, for the event's time, with the event
// ({id, type, topics, actor, data, timestamp, depth}) as its trigger data
// (an execute_pipeline run hands it to the pipeline run), and the normal
// claim path runs it on any instance. The run's id is the event's id and
// the action's, so the instances that all hear the event record it once
// (the others' inserts conflict). Events within one millisecond (what
// SQLite keeps) move the later runs of the action on by a millisecond, as
// each occurrence is unique. The store counts an event run as one of its
// action's executions, in the same transaction and only while the action
// is active: the action expires when it reaches max_executions, and an
// event action also expires when it is saved or resumed past its end date.
// The overlap and catch-up policies do not apply to event actions: every
// matching event fires one run.
//
// # Chains
//
// A run's depth is 0 when the scheduler or a person started it; an event
// run is one deeper than the run that caused its event: the run a
// schedule.run.* event is about (its data carries its depth), or the
// schedule run that started the pipeline run (run_id) or background task
// (task_id) a pipeline.* or background_task.* event is about, looked up by
// the link the run records (a pipeline run not linked yet is found by the
// depth in its trigger data, which an event run's pipeline inherits); any
// other event causes depth 1. An event that would fire a run deeper than
// MaxEventDepth (3) does not: the action gets a skipped run whose error
// says the chain was cut, and the cut is logged.
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
