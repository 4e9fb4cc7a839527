-- Background tasks: an agent working on a goal on its own, step by step (one
-- chat turn each), and the steps it took. A step goes with its task (ON
-- DELETE CASCADE; the store's connections turn foreign keys on).
-- Times are unix milliseconds, UTC; NULL where the domain has a zero time.
-- tool_calls and tool_results are TEXT holding the JSON exactly as written,
-- so that it reads back byte for byte (the same as on PostgreSQL, where JSONB
-- would reorder keys); NULL when none. agent_id and user_id have no foreign
-- key, the record outlives them.
-- A running task is worked on by the instance that holds its lease: owner
-- names it ('' for none: the next claim takes the task), lease_until is when
-- the lease ends, and epoch grows by one at each claim. Every write the
-- instance makes names the owner and epoch it claimed, and applies only while
-- the task still has them and is running (fencing). SQLite has one writer,
-- and each such write is one write transaction, so a pause or a cancel never
-- lands in the middle of one.
-- The number of running tasks is bounded: creating a task and resuming one
-- count the running tasks and write in one write transaction, which the one
-- writer serializes.
-- checkpoint_step is the step the task continues after (0 before the first
-- checkpoint); used_ms is the running time of its finished steps; the usage
-- columns add up its steps'.
CREATE TABLE background_tasks (
    id                  TEXT PRIMARY KEY,
    agent_id            INTEGER NOT NULL,
    user_id             INTEGER NOT NULL,
    goal                TEXT NOT NULL CHECK (goal <> ''),
    status              TEXT NOT NULL CHECK (status IN ('running', 'paused', 'completed', 'failed', 'cancelled',
                                                        'timed_out')),
    max_steps           INTEGER NOT NULL CHECK (max_steps >= 1),
    timeout_sec         INTEGER NOT NULL CHECK (timeout_sec >= 1),
    checkpoint_interval INTEGER NOT NULL CHECK (checkpoint_interval >= 1),
    checkpoint_step     INTEGER NOT NULL CHECK (checkpoint_step >= 0),
    session_id          TEXT NOT NULL,
    used_ms             INTEGER NOT NULL,
    result              TEXT NOT NULL,
    error_code          TEXT NOT NULL,
    error               TEXT NOT NULL,
    input_tokens        INTEGER NOT NULL,
    output_tokens       INTEGER NOT NULL,
    cost                REAL NOT NULL,
    created_at          INTEGER NOT NULL,
    started_at          INTEGER,
    updated_at          INTEGER NOT NULL,
    finished_at         INTEGER,
    owner               TEXT NOT NULL DEFAULT '',
    epoch               INTEGER NOT NULL CHECK (epoch >= 0),
    lease_until         INTEGER
) STRICT;
-- Listing newest first, everyone's, one agent's or one user's.
CREATE INDEX background_tasks_created_at ON background_tasks (created_at, id);
CREATE INDEX background_tasks_agent_id_created_at ON background_tasks (agent_id, created_at, id);
CREATE INDEX background_tasks_user_id_created_at ON background_tasks (user_id, created_at, id);
-- Claiming the oldest running task that needs an owner, and counting the
-- running tasks against the bound, look only at running tasks.
CREATE INDEX background_tasks_running_created_at ON background_tasks (created_at, id)
    WHERE status = 'running';

-- One row per step of a task, numbered from 1. Starting a step deletes the
-- task's steps numbered as much or more (an earlier try past the checkpoint)
-- before inserting it running; a pause, a cancel, a release, the task's end
-- or a claim after a dead instance turns the steps still running interrupted.
CREATE TABLE background_task_steps (
    task_id       TEXT NOT NULL REFERENCES background_tasks (id) ON DELETE CASCADE,
    step          INTEGER NOT NULL CHECK (step >= 1),
    status        TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
    content       TEXT NOT NULL,
    tool_calls    TEXT CHECK (tool_calls IS NULL OR json_valid(tool_calls)),
    tool_results  TEXT CHECK (tool_results IS NULL OR json_valid(tool_results)),
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost          REAL NOT NULL,
    error_code    TEXT NOT NULL,
    error         TEXT NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER,
    PRIMARY KEY (task_id, step)
) STRICT;
