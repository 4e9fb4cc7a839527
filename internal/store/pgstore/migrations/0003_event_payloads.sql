-- Bodies of cross-instance events too large for a NOTIFY payload (8,000
-- bytes): the notification carries the id and every instance loads the body.
-- body is the exact JSON text sent (TEXT, not JSONB, so it arrives byte for
-- byte). Rows older than the bridge's payload TTL are deleted.
CREATE TABLE event_payloads (
    id         TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX event_payloads_created_at ON event_payloads (created_at);
