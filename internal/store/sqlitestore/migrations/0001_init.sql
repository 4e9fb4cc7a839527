-- Installation-wide key/value facts (installation id, first start, …).
-- updated_at is unix milliseconds, UTC.
CREATE TABLE gathering_meta (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL DEFAULT (CAST(round(unixepoch('subsec') * 1000) AS INTEGER))
) STRICT;
