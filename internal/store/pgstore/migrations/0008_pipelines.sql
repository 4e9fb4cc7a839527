-- Pipelines: the stored definitions of DAG pipelines (runs arrive with the
-- engine).
-- nodes, edges and settings are TEXT holding the JSON exactly as the API
-- received it, never JSONB: JSONB would reorder keys and drop whitespace, and
-- a definition must read back byte for byte. The store checks that they are
-- valid JSON (nodes and edges arrays, settings an object) before writing.
-- version starts at 1 and grows by one at each update: an update names the
-- version it read and matches no row when someone changed it meanwhile
-- (optimistic concurrency). created_by has no foreign key, the definition
-- outlives its author; NULL when unknown.
CREATE TABLE pipelines (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused')),
    nodes       TEXT NOT NULL,
    edges       TEXT NOT NULL,
    settings    TEXT NOT NULL,
    version     BIGINT NOT NULL CHECK (version >= 1),
    created_by  BIGINT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
-- Listing the pipelines of one status, by id.
CREATE INDEX pipelines_status_id ON pipelines (status, id);
