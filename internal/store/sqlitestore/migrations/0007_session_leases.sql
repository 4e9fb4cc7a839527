-- Chat-session leases: several instances may share one database, and a
-- session must never run two turns at once (the history would interleave and
-- both turns would answer the same message). An instance takes a session's
-- lease with one conditional UPDATE before a turn and frees it after; a lease
-- whose holder died frees itself when lease_until passes. Both columns are
-- NULL when nobody holds the lease. SQLite has one writer, but the schema
-- stays the same as on PostgreSQL so the store behaves alike on both.
-- Times are unix milliseconds, UTC.
ALTER TABLE chat_sessions ADD COLUMN lease_owner TEXT;
ALTER TABLE chat_sessions ADD COLUMN lease_until INTEGER;
