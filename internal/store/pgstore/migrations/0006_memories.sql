-- Memories and the knowledge base, each entry with its vector.

-- One row per remembered text: an agent's own memory (scope 'agent', with
-- its agent_id) or a knowledge-base entry (scope 'knowledge'). agent_id has
-- no foreign key: the service deletes an agent's memories itself. tags is a
-- JSON array and metadata a JSON object (NULL when none), both as the exact
-- text. vector is no pgvector type (no extension needed): dimension
-- components, each a little-endian float32 (store.EncodeVector), made by
-- embedder. last_accessed_at is NULL until the entry is first recalled.
CREATE TABLE memories (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope            TEXT NOT NULL CHECK (scope IN ('agent', 'knowledge')),
    agent_id         BIGINT,
    type             TEXT NOT NULL CHECK (type IN ('fact', 'preference', 'episode', 'task', 'learning',
                                                   'document', 'knowledge')),
    content          TEXT NOT NULL,
    title            TEXT NOT NULL,
    source           TEXT NOT NULL,
    category         TEXT NOT NULL,
    document_id      TEXT NOT NULL,
    chunk_index      INTEGER NOT NULL,
    importance       DOUBLE PRECISION NOT NULL,
    tags             TEXT NOT NULL,
    metadata         TEXT,
    embedder         TEXT NOT NULL,
    dimension        INTEGER NOT NULL CHECK (dimension >= 0),
    vector           BYTEA NOT NULL CHECK (octet_length(vector) = 4 * dimension),
    created_at       TIMESTAMPTZ NOT NULL,
    last_accessed_at TIMESTAMPTZ,
    access_count     INTEGER NOT NULL
);
-- An agent's memories or the knowledge base, scanned and paged by id.
CREATE INDEX memories_scope_agent_id_id ON memories (scope, agent_id, id);
-- The chunks of one uploaded document.
CREATE INDEX memories_document_id ON memories (document_id);
-- The entries a given embedder made (to re-embed them).
CREATE INDEX memories_embedder ON memories (embedder);
