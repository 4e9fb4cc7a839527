-- Tool executions: one row per call of a tool, kept after it ends. input and
-- output are the exact JSON text (TEXT, not JSONB, so that they come back
-- byte for byte); output is NULL until the tool succeeded. user_id, agent_id
-- and decided_by have no foreign key: the record outlives users and agents;
-- NULL means none. Times are NULL where the domain has a zero time.
CREATE TABLE tool_executions (
    id           TEXT PRIMARY KEY,
    tool         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'running', 'awaiting_confirmation',
                                                 'succeeded', 'failed', 'cancelled', 'timed_out')),
    input        TEXT NOT NULL,
    output       TEXT,
    error_code   TEXT NOT NULL,
    error        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    user_id      BIGINT,
    agent_id     BIGINT,
    background   BOOLEAN NOT NULL,
    owner        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ,
    expires_at   TIMESTAMPTZ,
    heartbeat_at TIMESTAMPTZ,
    decided_by   BIGINT
);
-- Listing newest first, everyone's or per user, agent or tool.
CREATE INDEX tool_executions_created_at ON tool_executions (created_at, id);
CREATE INDEX tool_executions_user_id_created_at ON tool_executions (user_id, created_at, id);
CREATE INDEX tool_executions_agent_id_created_at ON tool_executions (agent_id, created_at, id);
-- The interrupt sweep and heartbeats look only at unfinished executions.
CREATE INDEX tool_executions_unfinished_heartbeat_at ON tool_executions (heartbeat_at)
    WHERE status IN ('pending', 'running', 'awaiting_confirmation');

-- The skills enabled for each agent. No foreign key to agents yet.
CREATE TABLE agent_skills (
    agent_id   BIGINT NOT NULL,
    skill      TEXT NOT NULL,
    enabled_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (agent_id, skill)
);
