-- Pipelines: the stored definitions of DAG pipelines (runs arrive with the
-- engine).
-- Times are unix milliseconds, UTC. nodes, edges and settings are TEXT
-- holding the JSON exactly as the API received it, so that a definition reads
-- back byte for byte (the same as on PostgreSQL, where JSONB would reorder
-- keys); nodes and edges are arrays, settings an object. version starts at 1
-- and grows by one at each update: an update names the version it read and
-- matches no row when someone changed it meanwhile (optimistic concurrency).
-- created_by has no foreign key, the definition outlives its author; NULL
-- when unknown. AUTOINCREMENT: the id of a deleted pipeline is never reused,
-- as on PostgreSQL, so that records of its runs keep naming it alone.
CREATE TABLE pipelines (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused')),
    nodes       TEXT NOT NULL CHECK (json_valid(nodes) AND json_type(nodes) = 'array'),
    edges       TEXT NOT NULL CHECK (json_valid(edges) AND json_type(edges) = 'array'),
    settings    TEXT NOT NULL CHECK (json_valid(settings) AND json_type(settings) = 'object'),
    version     INTEGER NOT NULL CHECK (version >= 1),
    created_by  INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
-- Listing the pipelines of one status, by id.
CREATE INDEX pipelines_status_id ON pipelines (status, id);
