-- Pipeline runs: each execution of a pipeline, the attempts of its nodes and
-- the human approvals it waits for. A run, its attempts and its approvals go
-- with their pipeline (ON DELETE CASCADE).
-- nodes, edges and settings are the pipeline's definition as the run started
-- it, copied so that editing the pipeline does not change runs in flight;
-- they, trigger_data, input and output are TEXT holding the JSON exactly as
-- written, never JSONB, so that it reads back byte for byte. The store checks
-- that they are valid JSON before writing. Ids and node ids are compared in
-- byte order (COLLATE "C"), as on SQLite, so lists sort alike on both.
-- A run is executed by the instance that holds its lease: owner names it
-- ('' for none), lease_until is when the lease ends, and epoch grows by one
-- at each claim. Every write an instance makes names the owner and epoch it
-- claimed, and applies only while the run still has them and is not finished
-- (fencing): an instance whose lease was reclaimed changes nothing. Writes to
-- attempts and approvals lock the run row FOR SHARE first and finishing a run
-- locks it FOR UPDATE, so a run cannot finish while one of them applies.
-- created_by and decided_by have no foreign key, the record outlives its
-- author; NULL when unknown. Times are NULL where the domain has a zero time.
CREATE TABLE pipeline_runs (
    id               TEXT COLLATE "C" PRIMARY KEY,
    pipeline_id      BIGINT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    pipeline_version BIGINT NOT NULL,
    nodes            TEXT NOT NULL,
    edges            TEXT NOT NULL,
    settings         TEXT NOT NULL,
    trigger_data     TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'running', 'waiting_approval',
                                                     'completed', 'failed', 'cancelled', 'timed_out')),
    error_code       TEXT NOT NULL,
    error            TEXT NOT NULL,
    created_by       BIGINT,
    created_at       TIMESTAMPTZ NOT NULL,
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ,
    owner            TEXT NOT NULL DEFAULT '',
    epoch            BIGINT NOT NULL CHECK (epoch >= 0),
    lease_until      TIMESTAMPTZ
);
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
    run_id        TEXT COLLATE "C" NOT NULL REFERENCES pipeline_runs (id) ON DELETE CASCADE,
    node_id       TEXT COLLATE "C" NOT NULL,
    attempt       INTEGER NOT NULL CHECK (attempt >= 1),
    status        TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'skipped',
                                                  'cancelled', 'timed_out')),
    input         TEXT,
    output        TEXT,
    error_code    TEXT NOT NULL,
    error         TEXT NOT NULL,
    started_at    TIMESTAMPTZ,
    finished_at   TIMESTAMPTZ,
    input_tokens  BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cost          DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (run_id, node_id, attempt)
);

-- The decision an approval node of a run waits for, one per node. It is
-- pending until decided, and can no longer be decided once expires_at
-- (NULL: never) has passed.
CREATE TABLE pipeline_approvals (
    run_id       TEXT COLLATE "C" NOT NULL REFERENCES pipeline_runs (id) ON DELETE CASCADE,
    node_id      TEXT COLLATE "C" NOT NULL,
    message      TEXT NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    decided      BOOLEAN NOT NULL,
    approved     BOOLEAN NOT NULL,
    comment      TEXT NOT NULL,
    decided_by   BIGINT,
    decided_at   TIMESTAMPTZ,
    PRIMARY KEY (run_id, node_id)
);
