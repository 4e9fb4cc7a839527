package pgstore

import (
	"context"
	"embed"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations loads the embedded migrations.
func migrations() ([]store.Migration, error) {
	ms, err := store.LoadMigrations(migrationFiles, "migrations")
	return ms, translate(err, "load embedded migrations")
}

// unlockTimeout bounds the advisory unlock, which runs even when the caller's
// context is done.
const unlockTimeout = 5 * time.Second

// Migrate applies every pending migration, each in its own transaction with
// its schema_migrations row, on one connection that holds a session advisory
// lock keyed on the current schema. It then makes sure the installation id
// exists. It returns the versions it applied.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	known, err := migrations()
	if err != nil {
		return nil, err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, translate(err, "migrate: acquire a connection")
	}
	defer conn.Release()
	key, err := lock(ctx, conn)
	if err != nil {
		return nil, err
	}
	defer unlock(conn, key)
	applied, err := applyPending(ctx, conn.Conn(), known)
	if err != nil {
		return applied, err
	}
	return applied, ensureInstallationID(ctx, conn.Conn())
}

// lock takes the session advisory lock that serializes migrations of the
// current schema and returns its key.
func lock(ctx context.Context, conn *pgxpool.Conn) (string, error) {
	var schema string
	if err := conn.QueryRow(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
		return "", translate(err, "migrate: read the current schema")
	}
	if schema == "" {
		return "", gathering.Errorf(gathering.EINVALID, "migrate: search_path names no existing schema")
	}
	key := "gathering.migrate:" + schema
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext($1))`, key); err != nil {
		return "", translate(err, "migrate: take the migration lock")
	}
	return key, nil
}

// unlock releases the migration lock. If that fails the connection is closed,
// which releases the lock too, rather than going back to the pool holding it.
func unlock(conn *pgxpool.Conn, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
	defer cancel()
	var released bool
	err := conn.QueryRow(ctx, `SELECT pg_advisory_unlock(hashtext($1))`, key).Scan(&released)
	if err != nil || !released {
		_ = conn.Conn().Close(ctx)
	}
}

// applyPending creates the bookkeeping table if needed and applies the
// migrations it does not list yet.
func applyPending(ctx context.Context, conn *pgx.Conn, known []store.Migration) ([]int, error) {
	const bookkeeping = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INT PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`
	if _, err := conn.Exec(ctx, bookkeeping); err != nil {
		return nil, translate(err, "migrate: create schema_migrations")
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range known {
		if _, ok := done[m.Version]; ok {
			continue
		}
		if err := apply(ctx, conn, m); err != nil {
			return applied, err
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// apply runs one migration and records it, in one transaction.
func apply(ctx context.Context, conn *pgx.Conn, m store.Migration) error {
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
		return err
	})
	return translate(err, "apply migration %04d_%s", m.Version, m.Name)
}

// querier is what pgx.Conn and pgxpool.Pool have in common for reading.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// appliedVersions reads schema_migrations: version → applied time (UTC).
func appliedVersions(ctx context.Context, q querier) (map[int]time.Time, error) {
	rows, err := q.Query(ctx, `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		return nil, translate(err, "read schema_migrations")
	}
	done := map[int]time.Time{}
	var (
		version int
		at      time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&version, &at}, func() error {
		done[version] = at.UTC()
		return nil
	})
	return done, translate(err, "read schema_migrations")
}

// MigrationStatus lists the embedded migrations and the recorded ones. Before
// the first Migrate every embedded migration is pending.
func (s *Store) MigrationStatus(ctx context.Context) ([]store.MigrationState, error) {
	known, err := migrations()
	if err != nil {
		return nil, err
	}
	var exists bool
	err = s.pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists)
	if err != nil {
		return nil, translate(err, "look for schema_migrations")
	}
	applied := map[int]time.Time{}
	if exists {
		if applied, err = appliedVersions(ctx, s.pool); err != nil {
			return nil, err
		}
	}
	return store.MigrationStates(known, applied), nil
}

// ensureInstallationID stores a random 128-bit installation id unless one
// exists already.
func ensureInstallationID(ctx context.Context, conn *pgx.Conn) error {
	_, err := conn.Exec(ctx, `INSERT INTO gathering_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
		store.MetaInstallationID, store.NewInstallationID())
	return translate(err, "create meta %q", store.MetaInstallationID)
}
