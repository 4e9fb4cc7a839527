package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/gathering/gathering/internal/config"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/pgstore"
	"github.com/gathering/gathering/internal/store/sqlitestore"
)

// loadConfig parses a command's flags and the environment. On failure it
// prints every problem and returns the exit code to use.
func loadConfig(fs *flag.FlagSet, args []string, e env) (*config.Config, int) {
	cfg, err := config.Load(fs, args, e.getenv)
	var problems config.Problems
	switch {
	case err == nil:
		return cfg, exitOK
	case errors.As(err, &problems):
		return nil, fail(e, "%v", problems)
	default:
		return nil, flagExit(err)
	}
}

// openStore opens PostgreSQL when DATABASE_URL is set, else the embedded
// SQLite file in the data directory.
func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	if cfg.DatabaseURL != "" {
		s, err := pgstore.Open(ctx, pgstore.Config{
			URL:              cfg.DatabaseURL,
			MaxConns:         int32(cfg.DBMaxConns),
			StatementTimeout: cfg.DBStatementTimeout,
		})
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL: %w", err)
		}
		return s, nil
	}
	s, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: cfg.SQLitePath(), ReadConns: cfg.DBMaxConns})
	if err != nil {
		return nil, fmt.Errorf("open SQLite: %w", err)
	}
	return s, nil
}
