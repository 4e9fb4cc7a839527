// Package pgbridge carries events between GatheRing instances that share a
// PostgreSQL database, through LISTEN/NOTIFY.
//
// A Bridge is the bus's event.Transport: Send publishes an event with
// pg_notify on one channel. An event whose JSON exceeds what a notification
// may carry is stored in the event_payloads table and the notification
// carries its id; receivers load it, and old rows are purged after
// Config.PayloadTTL.
//
// A dedicated connection (never one from the pool) LISTENs on the channel
// and hands every event from another instance to the bus; an instance's own
// echo is ignored. When that connection drops, the bridge reconnects with
// exponential backoff and jitter, then calls Bus.Reset because events may
// have been missed meanwhile.
//
// Notification channels belong to the database, not to a schema:
// installations that share a database in different schemas must use
// different channel names.
package pgbridge
