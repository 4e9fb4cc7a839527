package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"time"

	"github.com/gathering/gathering/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations loads the embedded migrations.
func migrations() ([]store.Migration, error) {
	ms, err := store.LoadMigrations(migrationFiles, "migrations")
	return ms, translate(err, "load embedded migrations")
}

// Migrate applies every pending migration, each in its own transaction with
// its schema_migrations row, then makes sure the installation id exists. The
// file lock keeps other processes out; a mutex orders calls in this one. It
// returns the versions it applied.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	known, err := migrations()
	if err != nil {
		return nil, err
	}
	s.migrateMu.Lock()
	defer s.migrateMu.Unlock()
	const bookkeeping = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL DEFAULT (CAST(round(unixepoch('subsec') * 1000) AS INTEGER))
	) STRICT`
	if _, err := s.write.ExecContext(ctx, bookkeeping); err != nil {
		return nil, translate(err, "migrate: create schema_migrations")
	}
	applied, err := s.applyPending(ctx, known)
	if err != nil {
		return applied, err
	}
	return applied, s.ensureInstallationID(ctx)
}

// applyPending applies the migrations schema_migrations does not list yet.
func (s *Store) applyPending(ctx context.Context, known []store.Migration) ([]int, error) {
	done, err := appliedVersions(ctx, s.write)
	if err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range known {
		if _, ok := done[m.Version]; ok {
			continue
		}
		if err := s.apply(ctx, m); err != nil {
			return applied, err
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// apply runs one migration and records it, in one transaction.
func (s *Store) apply(ctx context.Context, m store.Migration) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return translate(err, "apply migration %04d_%s: begin", m.Version, m.Name)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return translate(err, "apply migration %04d_%s", m.Version, m.Name)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, m.Version, m.Name); err != nil {
		return translate(err, "record migration %04d_%s", m.Version, m.Name)
	}
	return translate(tx.Commit(), "commit migration %04d_%s", m.Version, m.Name)
}

// appliedVersions reads schema_migrations: version → applied time (UTC).
func appliedVersions(ctx context.Context, db *sql.DB) (map[int]time.Time, error) {
	rows, err := db.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		return nil, translate(err, "read schema_migrations")
	}
	defer rows.Close()
	done := map[int]time.Time{}
	for rows.Next() {
		var version int
		var ms int64
		if err := rows.Scan(&version, &ms); err != nil {
			return nil, translate(err, "read schema_migrations")
		}
		done[version] = time.UnixMilli(ms).UTC()
	}
	return done, translate(rows.Err(), "read schema_migrations")
}

// MigrationStatus lists the embedded migrations and the recorded ones. Before
// the first Migrate every embedded migration is pending.
func (s *Store) MigrationStatus(ctx context.Context) ([]store.MigrationState, error) {
	known, err := migrations()
	if err != nil {
		return nil, err
	}
	var exists bool
	err = s.read.QueryRowContext(ctx,
		`SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&exists)
	if err != nil {
		return nil, translate(err, "look for schema_migrations")
	}
	applied := map[int]time.Time{}
	if exists {
		if applied, err = appliedVersions(ctx, s.read); err != nil {
			return nil, err
		}
	}
	return store.MigrationStates(known, applied), nil
}

// ensureInstallationID stores a random 128-bit installation id unless one
// exists already.
func (s *Store) ensureInstallationID(ctx context.Context) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO gathering_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
		store.MetaInstallationID, store.NewInstallationID())
	return translate(err, "create meta %q", store.MetaInstallationID)
}
