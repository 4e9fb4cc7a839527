package pgstore

import "github.com/jackc/pgx/v5/pgxpool"

// PoolOf exposes a Store's pool to tests that check server-side settings.
func PoolOf(s *Store) *pgxpool.Pool { return s.pool }

// ScheduleLockKey is the key of the advisory lock ActionClaimDue takes on
// the action whose id is $1, for tests that hold it from another session.
const ScheduleLockKey = scheduleLockKey
