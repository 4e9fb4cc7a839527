// Package store is GatheRing's storage seam: the interfaces every backend
// implements, the parameters they take and the migration bookkeeping they
// share. Engines depend on this package only; the composition root picks a
// backend (pgstore or sqlitestore).
package store

import (
	"context"
	"time"
)

// Backend names a storage implementation.
type Backend string

// The storage backends.
const (
	Postgres Backend = "postgres"
	SQLite   Backend = "sqlite"
)

// Store is one open database. Every method is safe for concurrent use.
// Errors are translated at the boundary: callers only ever see
// gathering.Error codes (ENOTFOUND, ECONFLICT, EUNAVAILABLE, ETIMEOUT,
// EINTERNAL), never a driver error type.
type Store interface {
	// Backend tells which implementation this is.
	Backend() Backend
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Migrate applies every pending embedded migration, in order, each in its
	// own transaction, while holding a lock that keeps other instances from
	// migrating at the same time. It returns the versions it applied.
	Migrate(ctx context.Context) ([]int, error)
	// MigrationStatus lists every migration the binary embeds and every one
	// the database has recorded, in version order.
	MigrationStatus(ctx context.Context) ([]MigrationState, error)
	// Stats reports the connection pool.
	Stats() PoolStats
	// Close releases the database. It is called last at shutdown.
	Close() error

	MetaStore
	IdentityStore
	ToolStore
	AgentStore
	MemoryStore
	PipelineStore
	PipelineRunStore
	ScheduleStore
	TaskStore
	ProjectStore
	CircleStore
	ConversationStore
	GoalStore
}

// MetaStore keeps small installation-wide facts (the installation id, when the
// schema was first created) as key/value pairs.
type MetaStore interface {
	// MetaGet returns the value of key, or ENOTFOUND.
	MetaGet(ctx context.Context, key string) (Meta, error)
	// MetaCreate stores key only when it does not exist yet, else ECONFLICT.
	MetaCreate(ctx context.Context, key, value string) (Meta, error)
	// MetaPut stores key, replacing any previous value.
	MetaPut(ctx context.Context, key, value string) (Meta, error)
}

// Meta is one installation-wide key/value pair.
type Meta struct {
	Key       string
	Value     string
	UpdatedAt time.Time
}

// Well-known meta keys.
const (
	MetaInstallationID = "installation_id"
)

// MigrationState is one migration as the binary and the database see it.
type MigrationState struct {
	Version int
	Name    string
	// Applied is when the database recorded it; zero when pending.
	Applied time.Time
	// Known is false for a version the database has but this binary does not
	// embed (a newer binary migrated it).
	Known bool
}

// Pending reports whether the migration has not been applied yet.
func (m MigrationState) Pending() bool { return m.Applied.IsZero() }

// PoolStats describes a connection pool, whatever the backend.
type PoolStats struct {
	MaxConns     int
	OpenConns    int
	InUse        int
	Idle         int
	WaitCount    int64
	WaitDuration time.Duration
	// Statements counts the SQL statements the store ran since it opened:
	// every query and exec (a prepared statement each time it runs), each
	// statement of a batch, and BEGIN, COMMIT and ROLLBACK. Tests use it
	// to prove that a load takes one query.
	Statements int64
}
