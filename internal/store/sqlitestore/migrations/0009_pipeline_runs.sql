-- Pipeline runs: each execution of a pipeline, the attempts of its nodes and
-- the human approvals it waits for. A run, its attempts and its approvals go
-- with their pipeline (ON DELETE CASCADE; the store's connections turn
-- foreign keys on).
-- Times are unix milliseconds, UTC; NULL where the domain has a zero time.
-- nodes, edges and settings are the pipeline's definition as the run started
-- it, copied so that editing the pipeline does not change runs in flight;
-- they, trigger_data, input and output are TEXT holding the JSON exactly as
-- written, so that it reads back byte for byte (the same as on PostgreSQL,
-- where JSONB would reorder keys).
-- A run is executed by the instance that holds its lease: owner names it
-- ('' for none), lease_until is when the lease ends, and epoch grows by one
-- at each claim. Every write an instance makes names the owner and epoch it
-- claimed, and applies only while the run still has them and is not finished
-- (fencing): an instance whose lease was reclaimed changes nothing. SQLite
-- has one writer, and each such write is one statement or one write
-- transaction, so a run cannot finish while one of them applies.
-- created_by and decided_by have no foreign key, the record outlives its
-- author; NULL when unknown.
CREATE TABLE pipeline_runs (
    id               TEXT PRIMARY KEY,
    pipeline_id      INTEGER NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    pipeline_version INTEGER NOT NULL,
    nodes            TEXT NOT NULL CHECK (json_valid(nodes)),
    edges            TEXT NOT NULL CHECK (json_valid(edges)),
    settings         TEXT NOT NULL CHECK (json_valid(settings)),
    trigger_data     TEXT NOT NULL CHECK (json_valid(trigger_data)),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'running', 'waiting_approval',
                                                     'completed', 'failed', 'cancelled', 'timed_out')),
    error_code       TEXT NOT NULL,
    error            TEXT NOT NULL,
    created_by       INTEGER,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    owner            TEXT NOT NULL DEFAULT '',
    epoch            INTEGER NOT NULL CHECK (epoch >= 0),
    lease_until      INTEGER
) STRICT;
-- Listing newest first, everyone's or one pipeline's.
CREATE INDEX pipeline_runs_created_at ON pipeline_runs (created_at, id);
CREATE INDEX pipeline_runs_pipeline_id_created_at ON pipeline_runs (pipeline_id, created_at, id);
-- Claiming the oldest run that needs an owner looks only at unfinished runs.
CREATE INDEX pipeline_runs_unfinished_created_at ON pipeline_runs (created_at, id)
    WHERE status IN ('pending', 'running', 'waiting_approval');

-- One row per attempt of a node of a run; a retry adds the next attempt.
-- input and output are NULL when there are none; the usage adds up what the
-- attempt cost.
CREATE TABLE pipeline_node_runs (
    run_id        TEXT NOT NULL REFERENCES pipeline_runs (id) ON DELETE CASCADE,
    node_id       TEXT NOT NULL,
    attempt       INTEGER NOT NULL CHECK (attempt >= 1),
    status        TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'skipped',
                                                  'cancelled', 'timed_out')),
    input         TEXT CHECK (input IS NULL OR json_valid(input)),
    output        TEXT CHECK (output IS NULL OR json_valid(output)),
    error_code    TEXT NOT NULL,
    error         TEXT NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost          REAL NOT NULL,
    PRIMARY KEY (run_id, node_id, attempt)
) STRICT;

-- The decision an approval node of a run waits for, one per node. It is
-- pending until decided, and can no longer be decided once expires_at
-- (NULL: never) has passed.
CREATE TABLE pipeline_approvals (
    run_id       TEXT NOT NULL REFERENCES pipeline_runs (id) ON DELETE CASCADE,
    node_id      TEXT NOT NULL,
    message      TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    expires_at   INTEGER,
    decided      INTEGER NOT NULL CHECK (decided IN (0, 1)),
    approved     INTEGER NOT NULL CHECK (approved IN (0, 1)),
    comment      TEXT NOT NULL,
    decided_by   INTEGER,
    decided_at   INTEGER,
    PRIMARY KEY (run_id, node_id)
) STRICT;
