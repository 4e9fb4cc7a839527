package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Config says where the database file lives and how to use it. The zero
// value of every field but Path is a useful default.
type Config struct {
	// Path is the database file; its parent directory is created (0700) when
	// missing.
	Path string
	// BusyTimeout is how long a connection waits for a lock held by another
	// connection; 0 means 5 s.
	BusyTimeout time.Duration
	// ReadConns caps the read-only pool; 0 means 4.
	ReadConns int
}

// Store is a store.Store on one SQLite file.
type Store struct {
	write     *sql.DB // one connection, BEGIN IMMEDIATE
	read      *sql.DB // ReadConns connections, query_only
	lock      *os.File
	migrateMu sync.Mutex // Migrate calls in this process take turns
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open locks the file against other processes, then opens the write and read
// pools and pings the writer (which creates the file and switches it to WAL).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Path == "" {
		return nil, gathering.Errorf(gathering.EINVALID, "SQLite database path is empty")
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
		return nil, &gathering.Error{Code: gathering.EUNAVAILABLE, Message: "cannot create the directory of " + cfg.Path, Err: err}
	}
	lock, err := lockFile(cfg.Path)
	if err != nil {
		return nil, err
	}
	s := &Store{lock: lock}
	if err := s.openPools(ctx, cfg); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// openPools opens both pools and checks that the writer works.
func (s *Store) openPools(ctx context.Context, cfg Config) error {
	var err error
	if s.write, err = sql.Open("sqlite", dsn(cfg, false)); err != nil {
		return translate(err, "open %s", cfg.Path)
	}
	s.write.SetMaxOpenConns(1)
	if s.read, err = sql.Open("sqlite", dsn(cfg, true)); err != nil {
		return translate(err, "open %s", cfg.Path)
	}
	conns := cmp.Or(cfg.ReadConns, 4)
	s.read.SetMaxOpenConns(conns)
	s.read.SetMaxIdleConns(conns)
	return translate(s.write.PingContext(ctx), "open %s", cfg.Path)
}

// dsn builds the data source name of the write or the read pool.
func dsn(cfg Config, readOnly bool) string {
	busy := cmp.Or(cfg.BusyTimeout, 5*time.Second)
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return cfg.Path + "?" + q.Encode()
}

// Backend reports store.SQLite.
func (s *Store) Backend() store.Backend { return store.SQLite }

// Ping checks that both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return translate(err, "ping SQLite writer")
	}
	return translate(s.read.PingContext(ctx), "ping SQLite readers")
}

// Stats adds up the write and read pools.
func (s *Store) Stats() store.PoolStats {
	w, r := s.write.Stats(), s.read.Stats()
	return store.PoolStats{
		MaxConns:     w.MaxOpenConnections + r.MaxOpenConnections,
		OpenConns:    w.OpenConnections + r.OpenConnections,
		InUse:        w.InUse + r.InUse,
		Idle:         w.Idle + r.Idle,
		WaitCount:    w.WaitCount + r.WaitCount,
		WaitDuration: w.WaitDuration + r.WaitDuration,
	}
}

// Close closes both pools, then releases the file lock. Calling it again
// returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		for _, db := range []*sql.DB{s.read, s.write} {
			if db != nil {
				errs = append(errs, db.Close())
			}
		}
		errs = append(errs, s.lock.Close()) // closing the descriptor releases the lock
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("close SQLite store: %w", err)
		}
	})
	return s.closeErr
}
