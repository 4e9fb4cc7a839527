package sqlitestore

import "database/sql"

// Pools exposes a Store's write and read pools to tests that check
// connection settings.
func Pools(s *Store) (write, read *sql.DB) { return s.write, s.read }
