-- Tool executions and the skills enabled for each agent.
-- Times are unix milliseconds, UTC; NULL where the domain has a zero time.

-- One row per call of a tool, kept after it ends. input and output are the
-- exact JSON text; output is NULL until the tool succeeded. user_id, agent_id
-- and decided_by have no foreign key: the record outlives users and agents;
-- NULL means none.
CREATE TABLE tool_executions (
    id           TEXT PRIMARY KEY,
    tool         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'running', 'awaiting_confirmation',
                                                 'succeeded', 'failed', 'cancelled', 'timed_out')),
    input        TEXT NOT NULL CHECK (json_valid(input)),
    output       TEXT CHECK (output IS NULL OR json_valid(output)),
    error_code   TEXT NOT NULL,
    error        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    user_id      INTEGER,
    agent_id     INTEGER,
    background   INTEGER NOT NULL CHECK (background IN (0, 1)),
    owner        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER,
    expires_at   INTEGER,
    heartbeat_at INTEGER,
    decided_by   INTEGER
) STRICT;
-- Listing newest first, everyone's or per user or agent.
CREATE INDEX tool_executions_created_at ON tool_executions (created_at, id);
CREATE INDEX tool_executions_user_id_created_at ON tool_executions (user_id, created_at, id);
CREATE INDEX tool_executions_agent_id_created_at ON tool_executions (agent_id, created_at, id);
-- The interrupt sweep: unfinished executions by heartbeat.
CREATE INDEX tool_executions_status_heartbeat_at ON tool_executions (status, heartbeat_at);

-- The skills enabled for each agent. No foreign key to agents yet.
CREATE TABLE agent_skills (
    agent_id   INTEGER NOT NULL,
    skill      TEXT NOT NULL,
    enabled_at INTEGER NOT NULL,
    PRIMARY KEY (agent_id, skill)
) STRICT;
