package pgstore

import "github.com/jackc/pgx/v5/pgxpool"

// PoolOf exposes a Store's pool to tests that check server-side settings.
func PoolOf(s *Store) *pgxpool.Pool { return s.pool }
