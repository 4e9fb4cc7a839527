// Package circle runs circles: teams of agents that take tasks, route them
// to the member best suited, review each other's work and notice conflicts.
//
// # Tasks
//
// A task is pending until it is assigned to a member: by hand, or, in a
// circle with auto_route, to the member whose competencies cover most of
// the task's required competencies (compared case-insensitively), ties
// going to the member with the fewest active tasks, then to the lowest
// agent id. Assigned, in_progress and in_review tasks are active; a circle
// has at most max_concurrent_tasks of them, and its other tasks stay
// pending until a slot frees (a task completes or fails, the limit grows)
// or the circle starts.
//
// In a running circle an assigned task starts at once: its assignee works
// on it as a background agent task (package background) whose goal is the
// task's title, description, required competencies and, after a
// rejection, the reviewer's feedback, acting with the rights of the task's
// creator. When the background task completes, the circle task is
// submitted with its result: in review with a reviewer picked (a member
// who can review, other than the assignee, with the fewest active tasks and
// reviews) when the circle requires reviews, else completed. A background
// task that fails, times out or is cancelled fails its circle task. A
// rejection sends the task back to its assignee with the reason as
// feedback, and a new background task starts.
//
// Stopping a circle starts no new work: tasks assigned, or sent back by a
// reviewer, wait for the circle to start again. The background tasks
// already running go on to their end, and their results are submitted as
// usual; cancel one through the background task API to stop it.
//
// # Instances
//
// Every status change is a compare-and-set in the store, so that several
// instances hearing the same event change a task once. Each Service
// listens for the end of background tasks and for project activity, and
// every Options.Sweep (and when it starts) it catches up on what it may
// have missed: background tasks that ended while no instance listened,
// tasks waiting to start, pending tasks to route.
//
// # Conflicts
//
// A conflict is one path touched by two members, each for an active task
// of the circle: a file of the circle's project written, moved or deleted
// through the fs tools (the project's activity), or listed in the
// files_modified of a submission. One conflict stays open per circle, path
// and pair of members until someone resolves it.
//
// # Events
//
// Events are published on the topic circle:<name>, and on agent:<id> for
// the agents they concern: circle.created, updated, deleted, started,
// stopped; circle.member.added, removed; circle.task.created, assigned,
// started, submitted, approved, rejected, completed, failed;
// circle.conflict.detected, resolved.
package circle
