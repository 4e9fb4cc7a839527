-- Background tasks: an agent working on a goal on its own, step by step (one
-- chat turn each), and the steps it took. A step goes with its task (ON
-- DELETE CASCADE).
-- tool_calls and tool_results are TEXT holding the JSON exactly as written,
-- never JSONB, so that it reads back byte for byte; NULL when none. The store
-- checks that they are valid JSON before writing. Ids are compared in byte
-- order (COLLATE "C"), as on SQLite, so lists sort alike on both. Times are
-- NULL where the domain has a zero time. agent_id and user_id have no foreign
-- key, the record outlives them.
-- A running task is worked on by the instance that holds its lease: owner
-- names it ('' for none: the next claim takes the task), lease_until is when
-- the lease ends, and epoch grows by one at each claim. Every write the
-- instance makes names the owner and epoch it claimed, and applies only while
-- the task still has them and is running (fencing); such a write locks the
-- task row first, so a pause or a cancel waits for it, or it for them.
-- The number of running tasks is bounded: creating a task and resuming one
-- count the running tasks under a transaction advisory lock (see
-- taskLimitLock in task.go), so that two instances never pass the bound
-- together.
-- checkpoint_step is the step the task continues after (0 before the first
-- checkpoint); used_ms is the running time of its finished steps; the usage
-- columns add up its steps'.
CREATE TABLE background_tasks (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    agent_id            BIGINT NOT NULL,
    user_id             BIGINT NOT NULL,
    goal                TEXT NOT NULL CHECK (goal <> ''),
    status              TEXT NOT NULL CHECK (status IN ('running', 'paused', 'completed', 'failed', 'cancelled',
                                                        'timed_out')),
    max_steps           INTEGER NOT NULL CHECK (max_steps >= 1),
    timeout_sec         BIGINT NOT NULL CHECK (timeout_sec >= 1),
    checkpoint_interval INTEGER NOT NULL CHECK (checkpoint_interval >= 1),
    checkpoint_step     INTEGER NOT NULL CHECK (checkpoint_step >= 0),
    session_id          TEXT NOT NULL,
    used_ms             BIGINT NOT NULL,
    result              TEXT NOT NULL,
    error_code          TEXT NOT NULL,
    error               TEXT NOT NULL,
    input_tokens        BIGINT NOT NULL,
    output_tokens       BIGINT NOT NULL,
    cost                DOUBLE PRECISION NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    started_at          TIMESTAMPTZ,
    updated_at          TIMESTAMPTZ NOT NULL,
    finished_at         TIMESTAMPTZ,
    owner               TEXT NOT NULL DEFAULT '',
    epoch               BIGINT NOT NULL CHECK (epoch >= 0),
    lease_until         TIMESTAMPTZ
);
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
    task_id       TEXT COLLATE "C" NOT NULL REFERENCES background_tasks (id) ON DELETE CASCADE,
    step          INTEGER NOT NULL CHECK (step >= 1),
    status        TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
    content       TEXT NOT NULL,
    tool_calls    TEXT,
    tool_results  TEXT,
    input_tokens  BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cost          DOUBLE PRECISION NOT NULL,
    error_code    TEXT NOT NULL,
    error         TEXT NOT NULL,
    started_at    TIMESTAMPTZ,
    finished_at   TIMESTAMPTZ,
    PRIMARY KEY (task_id, step)
);
