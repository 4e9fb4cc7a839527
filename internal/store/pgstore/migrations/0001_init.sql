-- Installation-wide key/value facts (installation id, first start, …).
CREATE TABLE gathering_meta (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
