package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/gathering/gathering/internal/store"
)

const migrateHelp = `Apply or list the database migrations.

  gathering migrate up [flags]       apply every pending migration
  gathering migrate status [flags]   list applied and pending migrations

The database is PostgreSQL when DATABASE_URL is set, else the SQLite file in
the data directory (which a running serve holds locked). Several instances may
run "migrate up" at once on one PostgreSQL: a lock makes them take turns.`

func migrate(ctx context.Context, args []string, e env) int {
	if len(args) == 0 || (args[0] != "up" && args[0] != "status") {
		fs := newFlagSet("migrate", migrateHelp, e)
		fs.Usage()
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return exitOK
		}
		return exitUsage
	}
	cfg, code := loadConfig(newFlagSet("migrate "+args[0], migrateHelp, e), args[1:], e)
	if cfg == nil {
		return code
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return fail(e, "%v", err)
	}
	defer db.Close()
	if args[0] == "up" {
		return migrateUp(ctx, db, e)
	}
	return migrateStatus(ctx, db, e)
}

func migrateUp(ctx context.Context, db store.Store, e env) int {
	applied, err := db.Migrate(ctx)
	if err != nil {
		return fail(e, "migrate: %v", err)
	}
	if len(applied) == 0 {
		fmt.Fprintf(e.stdout, "%s: schema is up to date\n", db.Backend())
		return exitOK
	}
	fmt.Fprintf(e.stdout, "%s: applied %v\n", db.Backend(), applied)
	return exitOK
}

func migrateStatus(ctx context.Context, db store.Store, e env) int {
	states, err := db.MigrationStatus(ctx)
	if err != nil {
		return fail(e, "migration status: %v", err)
	}
	fmt.Fprintf(e.stdout, "backend: %s\n", db.Backend())
	if meta, err := db.MetaGet(ctx, store.MetaInstallationID); err == nil {
		fmt.Fprintf(e.stdout, "installation: %s\n", meta.Value)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tSTATUS\tAPPLIED AT")
	for _, s := range states {
		status, at := "applied", s.Applied.UTC().Format(time.RFC3339)
		switch {
		case s.Pending():
			status, at = "pending", "-"
		case !s.Known:
			status = "applied (unknown to this binary)"
		}
		fmt.Fprintf(tw, "%04d\t%s\t%s\t%s\n", s.Version, s.Name, status, at)
	}
	tw.Flush()
	return exitOK
}
