-- Schedules: the actions agents, pipelines and webhooks perform on a
-- schedule (cron, interval, once or on an event), and the runs of their
-- occurrences.
-- Times are unix milliseconds, UTC; NULL where the domain has a zero time.
-- action_config, event_trigger, tags, result and trigger_data are TEXT
-- holding the JSON exactly as written, so that it reads back byte for byte
-- (the same as on PostgreSQL, where JSONB would reorder keys). tags is a JSON
-- array of strings. agent_id, circle_id and created_by have no foreign key,
-- the schedule outlives them; NULL when none.
-- version starts at 1 and grows by one at each write to the action, the
-- scheduler's included: an update names the version it read and matches no
-- row when the action changed meanwhile (optimistic concurrency).
-- AUTOINCREMENT: the id of a deleted action is never reused, as on
-- PostgreSQL.
CREATE TABLE scheduled_actions (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    name                 TEXT NOT NULL,
    description          TEXT NOT NULL,
    agent_id             INTEGER,
    circle_id            INTEGER,
    action_type          TEXT NOT NULL CHECK (action_type IN ('run_task', 'execute_pipeline', 'send_notification',
                                                              'call_api')),
    action_config        TEXT NOT NULL CHECK (json_valid(action_config) AND json_type(action_config) = 'object'),
    schedule_type        TEXT NOT NULL CHECK (schedule_type IN ('cron', 'interval', 'once', 'event')),
    cron_expression      TEXT NOT NULL,
    time_zone            TEXT NOT NULL,
    interval_sec         INTEGER NOT NULL,
    run_at               INTEGER,
    event_trigger        TEXT CHECK (event_trigger IS NULL OR (json_valid(event_trigger)
                                                              AND json_type(event_trigger) = 'object')),
    start_date           INTEGER,
    end_date             INTEGER,
    max_executions       INTEGER NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('active', 'paused', 'disabled', 'expired')),
    overlap_policy       TEXT NOT NULL CHECK (overlap_policy IN ('skip', 'queue_one', 'allow')),
    catchup_policy       TEXT NOT NULL CHECK (catchup_policy IN ('skip', 'run_once', 'run_all')),
    catchup_window_sec   INTEGER NOT NULL,
    catchup_max          INTEGER NOT NULL,
    max_retries          INTEGER NOT NULL,
    retry_delay_sec      INTEGER NOT NULL,
    pause_after_failures INTEGER NOT NULL,
    timeout_sec          INTEGER NOT NULL,
    next_run_at          INTEGER,
    last_run_at          INTEGER,
    execution_count      INTEGER NOT NULL,
    consecutive_failures INTEGER NOT NULL,
    tags                 TEXT NOT NULL CHECK (json_valid(tags) AND json_type(tags) = 'array'),
    created_by           INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    version              INTEGER NOT NULL CHECK (version >= 1)
) STRICT;
-- The scheduler's question: which timed actions are due, oldest first.
CREATE INDEX scheduled_actions_due ON scheduled_actions (next_run_at, id)
    WHERE status = 'active' AND schedule_type <> 'event';

-- One row per occurrence of an action: UNIQUE (action_id, scheduled_for)
-- is what makes an occurrence run once however often it is claimed (its
-- index, newest first, also lists an action's runs). A run goes with its
-- action (ON DELETE CASCADE; the store's connections turn foreign keys on).
-- A running run is executed by the instance that holds its lease: owner
-- names it ('' for none), lease_until is when the lease ends, and epoch
-- grows by one at each claim. Every write an instance makes names the owner
-- and epoch it claimed and applies only while the run still has them and is
-- running (fencing); SQLite has one writer, and each such write is one
-- statement or one write transaction. A pending run waits until not_before
-- (NULL: it may run now); a running run whose lease ended is reclaimed as
-- its next attempt. pipeline_run_id and background_task_id name what the
-- run started, '' for nothing.
CREATE TABLE schedule_runs (
    id                 TEXT PRIMARY KEY,
    action_id          INTEGER NOT NULL REFERENCES scheduled_actions (id) ON DELETE CASCADE,
    scheduled_for      INTEGER NOT NULL,
    triggered_by       TEXT NOT NULL CHECK (triggered_by IN ('scheduler', 'manual', 'event', 'recovery')),
    attempt            INTEGER NOT NULL CHECK (attempt >= 1),
    status             TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'skipped')),
    result             TEXT CHECK (result IS NULL OR json_valid(result)),
    error              TEXT NOT NULL,
    pipeline_run_id    TEXT NOT NULL,
    background_task_id TEXT NOT NULL,
    trigger_data       TEXT CHECK (trigger_data IS NULL OR json_valid(trigger_data)),
    not_before         INTEGER,
    started_at         INTEGER,
    finished_at        INTEGER,
    owner              TEXT NOT NULL DEFAULT '',
    epoch              INTEGER NOT NULL CHECK (epoch >= 0),
    lease_until        INTEGER
) STRICT;
CREATE UNIQUE INDEX schedule_runs_action_scheduled_for ON schedule_runs (action_id, scheduled_for DESC);
-- Claiming the oldest run that needs an owner looks only at unfinished
-- runs, in the order the claim takes them.
CREATE INDEX schedule_runs_unfinished ON schedule_runs (coalesce(not_before, scheduled_for), id)
    WHERE status IN ('pending', 'running');
