-- Agents: the model catalog, provider credentials, agents, chat history and
-- the usage ledger.
-- Lists of strings are the JSON text of an array (TEXT, so that both backends
-- store them alike). Ids that may be absent (users, agents in the ledger) have
-- no foreign key and are NULL for none.

-- Model providers, by name.
CREATE TABLE providers (
    name       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('openai', 'anthropic')),
    base_url   TEXT NOT NULL,
    is_builtin BOOLEAN NOT NULL,
    key_env    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- The sealed API key of a provider (nonce and ciphertext), gone with it.
CREATE TABLE provider_credentials (
    provider   TEXT PRIMARY KEY REFERENCES providers (name) ON DELETE CASCADE,
    sealed     BYTEA NOT NULL,
    hint       TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by BIGINT
);

-- The models of each provider. A provider with models cannot be deleted.
CREATE TABLE models (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider       TEXT NOT NULL REFERENCES providers (name),
    name           TEXT NOT NULL,
    alias          TEXT NOT NULL,
    context_window INT NOT NULL,
    max_output     INT NOT NULL,
    price_input    DOUBLE PRECISION NOT NULL,
    price_output   DOUBLE PRECISION NOT NULL,
    price_cached   DOUBLE PRECISION NOT NULL,
    tools          BOOLEAN NOT NULL,
    vision         BOOLEAN NOT NULL,
    streaming      BOOLEAN NOT NULL,
    is_builtin     BOOLEAN NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (provider, name)
);
CREATE INDEX models_provider_alias ON models (provider, alias);

-- The characters agents play.
CREATE TABLE personas (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    display_name        TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL,
    traits              TEXT NOT NULL,
    communication_style TEXT NOT NULL,
    specializations     TEXT NOT NULL,
    languages           TEXT NOT NULL,
    base_prompt         TEXT NOT NULL,
    motto               TEXT NOT NULL,
    description         TEXT NOT NULL,
    default_model_id    BIGINT REFERENCES models (id) ON DELETE SET NULL,
    is_builtin          BOOLEAN NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX personas_default_model_id ON personas (default_model_id);

-- Agents. A persona an agent plays cannot be deleted. provider and model name
-- the model at its provider, which the catalog need not list.
CREATE TABLE agents (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    persona_id   BIGINT NOT NULL REFERENCES personas (id),
    provider     TEXT NOT NULL,
    model        TEXT NOT NULL,
    temperature  DOUBLE PRECISION NOT NULL,
    max_tokens   INT NOT NULL,
    competencies TEXT NOT NULL,
    can_review   BOOLEAN NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('idle', 'busy')),
    created_by   BIGINT,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX agents_persona_id ON agents (persona_id);

-- Conversations with an agent, gone with it.
CREATE TABLE chat_sessions (
    id         TEXT PRIMARY KEY,
    agent_id   BIGINT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id    BIGINT,
    title      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX chat_sessions_agent_id_updated_at ON chat_sessions (agent_id, updated_at);

-- The messages of a session, in id order. tool_calls is JSON text, NULL when
-- none; agent_id is the session's.
CREATE TABLE chat_messages (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id   TEXT NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    agent_id     BIGINT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content      TEXT NOT NULL,
    tool_calls   TEXT,
    tool_call_id TEXT NOT NULL,
    is_error     BOOLEAN NOT NULL,
    tokens       INT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX chat_messages_session_id ON chat_messages (session_id, id);
CREATE INDEX chat_messages_agent_id ON chat_messages (agent_id, id);

-- The usage ledger: one row per provider call. No foreign keys: the ledger
-- outlives agents, sessions and users.
CREATE TABLE usage_records (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              TIMESTAMPTZ NOT NULL,
    agent_id        BIGINT,
    session_id      TEXT NOT NULL,
    user_id         BIGINT,
    pipeline_run_id TEXT NOT NULL,
    node_id         TEXT NOT NULL,
    provider        TEXT NOT NULL,
    model           TEXT NOT NULL,
    input_tokens    INT NOT NULL,
    output_tokens   INT NOT NULL,
    cached_tokens   INT NOT NULL,
    cost            DOUBLE PRECISION NOT NULL,
    latency_ms      BIGINT NOT NULL,
    outcome         TEXT NOT NULL
);
CREATE INDEX usage_records_at ON usage_records (at);
CREATE INDEX usage_records_agent_id_at ON usage_records (agent_id, at);
