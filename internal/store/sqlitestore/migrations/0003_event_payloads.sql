-- Bodies of cross-instance events too large for a NOTIFY payload. Only the
-- PostgreSQL event bridge uses this table (SQLite runs a single instance);
-- it exists here so that both schemas stay parallel.
-- created_at is unix milliseconds, UTC.
CREATE TABLE event_payloads (
    id         TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (CAST(round(unixepoch('subsec') * 1000) AS INTEGER))
) STRICT;
CREATE INDEX event_payloads_created_at ON event_payloads (created_at);
