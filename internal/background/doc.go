// Package background runs background agent tasks: an agent works on a goal
// on its own, step by step, each step one chat turn with its tools (plan,
// act, observe), until it reports the goal reached, runs out of steps or
// runs out of time.
//
// # Steps and checkpoints
//
// Every step is recorded as it starts and as it ends, with the agent's
// answer, its tool calls and results, and its usage; the steps share one
// chat session, so each sees the ones before it. Every checkpoint_interval
// steps, at a pause, and at the last step a stopping instance finishes,
// the task records the step it has reached. A task that was interrupted
// (a pause, a shutdown, a dead instance) continues after its last
// checkpoint; the steps after it are done again.
//
// A step's prompt asks the agent to begin its answer with "TASK COMPLETE"
// once the goal is reached; the rest of that answer is the task's result.
// A task that uses max_steps steps without reporting completion fails.
//
// # Running
//
// A running task is worked on by the one instance that holds its lease
// (store.TaskStore), renewed every third of the lease. Pause and cancel,
// from any instance, change the task in the database and are announced on
// the event bus: the working instance cancels the step in flight at once
// (its heartbeat notices within a third of the lease if the announcement is
// lost). The timeout counts running time only and bounds each step through
// its context. At most MaxRunning tasks run at once across every instance;
// creating or resuming one more is refused (ERATELIMITED). At shutdown the
// runner stops claiming, lets the steps in flight end until the deadline,
// and releases its tasks so that another instance, or the next start,
// continues them.
//
// Events background_task.created, started, step.completed, step.failed,
// paused, resumed, completed, failed, timed_out and cancelled are published
// on the topics background_task:<id> and agent:<agent_id>.
package background
