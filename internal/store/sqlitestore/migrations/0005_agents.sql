-- Agents: the model catalog, provider credentials, agents, chat history and
-- the usage ledger.
-- Times are unix milliseconds, UTC. Lists of strings are the JSON text of an
-- array. Ids that may be absent (users, agents in the ledger) have no foreign
-- key and are NULL for none.

-- Model providers, by name.
CREATE TABLE providers (
    name       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('openai', 'anthropic')),
    base_url   TEXT NOT NULL,
    is_builtin INTEGER NOT NULL CHECK (is_builtin IN (0, 1)),
    key_env    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- The sealed API key of a provider (nonce and ciphertext), gone with it.
CREATE TABLE provider_credentials (
    provider   TEXT PRIMARY KEY REFERENCES providers (name) ON DELETE CASCADE,
    sealed     BLOB NOT NULL,
    hint       TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by INTEGER
) STRICT;

-- The models of each provider. A provider with models cannot be deleted.
CREATE TABLE models (
    id             INTEGER PRIMARY KEY,
    provider       TEXT NOT NULL REFERENCES providers (name),
    name           TEXT NOT NULL,
    alias          TEXT NOT NULL,
    context_window INTEGER NOT NULL,
    max_output     INTEGER NOT NULL,
    price_input    REAL NOT NULL,
    price_output   REAL NOT NULL,
    price_cached   REAL NOT NULL,
    tools          INTEGER NOT NULL CHECK (tools IN (0, 1)),
    vision         INTEGER NOT NULL CHECK (vision IN (0, 1)),
    streaming      INTEGER NOT NULL CHECK (streaming IN (0, 1)),
    is_builtin     INTEGER NOT NULL CHECK (is_builtin IN (0, 1)),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (provider, name)
) STRICT;
CREATE INDEX models_provider_alias ON models (provider, alias);

-- The characters agents play.
CREATE TABLE personas (
    id                  INTEGER PRIMARY KEY,
    display_name        TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL,
    traits              TEXT NOT NULL CHECK (json_valid(traits)),
    communication_style TEXT NOT NULL,
    specializations     TEXT NOT NULL CHECK (json_valid(specializations)),
    languages           TEXT NOT NULL CHECK (json_valid(languages)),
    base_prompt         TEXT NOT NULL,
    motto               TEXT NOT NULL,
    description         TEXT NOT NULL,
    default_model_id    INTEGER REFERENCES models (id) ON DELETE SET NULL,
    is_builtin          INTEGER NOT NULL CHECK (is_builtin IN (0, 1)),
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX personas_default_model_id ON personas (default_model_id);

-- Agents. A persona an agent plays cannot be deleted. provider and model name
-- the model at its provider, which the catalog need not list. AUTOINCREMENT:
-- the id of a deleted agent is never reused, so that the ledger and tool
-- executions keep naming it alone.
CREATE TABLE agents (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    persona_id   INTEGER NOT NULL REFERENCES personas (id),
    provider     TEXT NOT NULL,
    model        TEXT NOT NULL,
    temperature  REAL NOT NULL,
    max_tokens   INTEGER NOT NULL,
    competencies TEXT NOT NULL CHECK (json_valid(competencies)),
    can_review   INTEGER NOT NULL CHECK (can_review IN (0, 1)),
    status       TEXT NOT NULL CHECK (status IN ('idle', 'busy')),
    created_by   INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX agents_persona_id ON agents (persona_id);

-- Conversations with an agent, gone with it.
CREATE TABLE chat_sessions (
    id         TEXT PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id    INTEGER,
    title      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX chat_sessions_agent_id_updated_at ON chat_sessions (agent_id, updated_at);

-- The messages of a session, in id order. tool_calls is JSON text, NULL when
-- none; agent_id is the session's. AUTOINCREMENT: ids only grow, even after
-- the newest messages were deleted.
CREATE TABLE chat_messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id   TEXT NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    agent_id     INTEGER NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content      TEXT NOT NULL,
    tool_calls   TEXT CHECK (tool_calls IS NULL OR json_valid(tool_calls)),
    tool_call_id TEXT NOT NULL,
    is_error     INTEGER NOT NULL CHECK (is_error IN (0, 1)),
    tokens       INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX chat_messages_session_id ON chat_messages (session_id, id);
CREATE INDEX chat_messages_agent_id ON chat_messages (agent_id, id);

-- The usage ledger: one row per provider call. No foreign keys: the ledger
-- outlives agents, sessions and users.
CREATE TABLE usage_records (
    id              INTEGER PRIMARY KEY,
    at              INTEGER NOT NULL,
    agent_id        INTEGER,
    session_id      TEXT NOT NULL,
    user_id         INTEGER,
    pipeline_run_id TEXT NOT NULL,
    node_id         TEXT NOT NULL,
    provider        TEXT NOT NULL,
    model           TEXT NOT NULL,
    input_tokens    INTEGER NOT NULL,
    output_tokens   INTEGER NOT NULL,
    cached_tokens   INTEGER NOT NULL,
    cost            REAL NOT NULL,
    latency_ms      INTEGER NOT NULL,
    outcome         TEXT NOT NULL
) STRICT;
CREATE INDEX usage_records_at ON usage_records (at);
CREATE INDEX usage_records_agent_id_at ON usage_records (agent_id, at);
