-- Schedules: the actions agents, pipelines and webhooks perform on a
-- schedule (cron, interval, once or on an event), and the runs of their
-- occurrences.
-- action_config, event_trigger, tags, result and trigger_data are TEXT
-- holding the JSON exactly as written, never JSONB, so that it reads back
-- byte for byte; the store checks that it is valid JSON before writing. tags
-- is a JSON array of strings. Times are NULL where the domain has a zero
-- time. agent_id, circle_id and created_by have no foreign key, the schedule
-- outlives them; NULL when none.
-- version starts at 1 and grows by one at each write to the action, the
-- scheduler's included: an update names the version it read and matches no
-- row when the action changed meanwhile (optimistic concurrency).
CREATE TABLE scheduled_actions (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                 TEXT NOT NULL,
    description          TEXT NOT NULL,
    agent_id             BIGINT,
    circle_id            BIGINT,
    action_type          TEXT NOT NULL CHECK (action_type IN ('run_task', 'execute_pipeline', 'send_notification',
                                                              'call_api')),
    action_config        TEXT NOT NULL,
    schedule_type        TEXT NOT NULL CHECK (schedule_type IN ('cron', 'interval', 'once', 'event')),
    cron_expression      TEXT NOT NULL,
    time_zone            TEXT NOT NULL,
    interval_sec         BIGINT NOT NULL,
    run_at               TIMESTAMPTZ,
    event_trigger        TEXT,
    start_date           TIMESTAMPTZ,
    end_date             TIMESTAMPTZ,
    max_executions       INTEGER NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('active', 'paused', 'disabled', 'expired')),
    overlap_policy       TEXT NOT NULL CHECK (overlap_policy IN ('skip', 'queue_one', 'allow')),
    catchup_policy       TEXT NOT NULL CHECK (catchup_policy IN ('skip', 'run_once', 'run_all')),
    catchup_window_sec   BIGINT NOT NULL,
    catchup_max          INTEGER NOT NULL,
    max_retries          INTEGER NOT NULL,
    retry_delay_sec      BIGINT NOT NULL,
    pause_after_failures INTEGER NOT NULL,
    timeout_sec          BIGINT NOT NULL,
    next_run_at          TIMESTAMPTZ,
    last_run_at          TIMESTAMPTZ,
    execution_count      INTEGER NOT NULL,
    consecutive_failures INTEGER NOT NULL,
    tags                 TEXT NOT NULL,
    created_by           BIGINT,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    version              BIGINT NOT NULL CHECK (version >= 1)
);
-- The scheduler's question: which timed actions are due, oldest first.
CREATE INDEX scheduled_actions_due ON scheduled_actions (next_run_at, id)
    WHERE status = 'active' AND schedule_type <> 'event';

-- One row per occurrence of an action: UNIQUE (action_id, scheduled_for)
-- is what makes an occurrence run once however many instances claim it (its
-- index, newest first, also lists an action's runs). A run goes with its
-- action (ON DELETE CASCADE). Ids are compared in byte order (COLLATE "C"),
-- as on SQLite.
-- A running run is executed by the instance that holds its lease: owner
-- names it ('' for none), lease_until is when the lease ends, and epoch
-- grows by one at each claim. Every write an instance makes names the owner
-- and epoch it claimed and applies only while the run still has them and is
-- running (fencing). A pending run waits until not_before (NULL: it may run
-- now); a running run whose lease ended is reclaimed as its next attempt.
-- pipeline_run_id and background_task_id name what the run started, ''
-- for nothing.
CREATE TABLE schedule_runs (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    action_id          BIGINT NOT NULL REFERENCES scheduled_actions (id) ON DELETE CASCADE,
    scheduled_for      TIMESTAMPTZ NOT NULL,
    triggered_by       TEXT NOT NULL CHECK (triggered_by IN ('scheduler', 'manual', 'event', 'recovery')),
    attempt            INTEGER NOT NULL CHECK (attempt >= 1),
    status             TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'skipped')),
    result             TEXT,
    error              TEXT NOT NULL,
    pipeline_run_id    TEXT NOT NULL,
    background_task_id TEXT NOT NULL,
    trigger_data       TEXT,
    not_before         TIMESTAMPTZ,
    started_at         TIMESTAMPTZ,
    finished_at        TIMESTAMPTZ,
    owner              TEXT NOT NULL DEFAULT '',
    epoch              BIGINT NOT NULL CHECK (epoch >= 0),
    lease_until        TIMESTAMPTZ
);
CREATE UNIQUE INDEX schedule_runs_action_scheduled_for ON schedule_runs (action_id, scheduled_for DESC);
-- Claiming the oldest run that needs an owner looks only at unfinished
-- runs, in the order the claim takes them.
CREATE INDEX schedule_runs_unfinished ON schedule_runs ((coalesce(not_before, scheduled_for)), id)
    WHERE status IN ('pending', 'running');
