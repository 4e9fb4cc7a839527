// Package sqlitestore implements the store interfaces on an embedded SQLite
// file through modernc.org/sqlite (pure Go, no cgo).
//
// One process owns the file: Open takes an exclusive OS lock on <path>.lock
// and refuses with EUNAVAILABLE while another process holds it. Inside the
// process there is one writer connection (transactions begin IMMEDIATE, so
// writers queue in Go rather than fail with SQLITE_BUSY) and a pool of
// read-only connections; the database runs in WAL mode so readers never wait
// for the writer.
//
// Timestamps are stored as INTEGER unix milliseconds (UTC) and come back as
// time.Time in UTC. Tables are STRICT. Migrations are numbered in step with
// pgstore's.
//
// Every error leaving this package is a *gathering.Error: callers never see a
// SQLite type, only the cause wrapped inside it.
package sqlitestore
