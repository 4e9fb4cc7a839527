-- Memories and the knowledge base, each entry with its vector.
-- Times are unix milliseconds, UTC; NULL where the domain has a zero time.

-- One row per remembered text: an agent's own memory (scope 'agent', with
-- its agent_id) or a knowledge-base entry (scope 'knowledge'). agent_id has
-- no foreign key: the service deletes an agent's memories itself. tags is a
-- JSON array and metadata a JSON object (NULL when none), both as the exact
-- text. vector holds dimension components, each a little-endian float32
-- (store.EncodeVector), made by embedder. last_accessed_at is NULL until the
-- entry is first recalled. AUTOINCREMENT: ids are never reused, so id order
-- stays creation order, as with PostgreSQL's identity.
CREATE TABLE memories (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    scope            TEXT NOT NULL CHECK (scope IN ('agent', 'knowledge')),
    agent_id         INTEGER,
    type             TEXT NOT NULL CHECK (type IN ('fact', 'preference', 'episode', 'task', 'learning',
                                                   'document', 'knowledge')),
    content          TEXT NOT NULL,
    title            TEXT NOT NULL,
    source           TEXT NOT NULL,
    category         TEXT NOT NULL,
    document_id      TEXT NOT NULL,
    chunk_index      INTEGER NOT NULL,
    importance       REAL NOT NULL,
    tags             TEXT NOT NULL CHECK (json_valid(tags) AND json_type(tags) = 'array'),
    metadata         TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
    embedder         TEXT NOT NULL,
    dimension        INTEGER NOT NULL CHECK (dimension >= 0),
    vector           BLOB NOT NULL CHECK (length(vector) = 4 * dimension),
    created_at       INTEGER NOT NULL,
    last_accessed_at INTEGER,
    access_count     INTEGER NOT NULL
) STRICT;
-- An agent's memories or the knowledge base, scanned and paged by id.
CREATE INDEX memories_scope_agent_id_id ON memories (scope, agent_id, id);
-- The chunks of one uploaded document.
CREATE INDEX memories_document_id ON memories (document_id);
-- The entries a given embedder made (to re-embed them).
CREATE INDEX memories_embedder ON memories (embedder);
