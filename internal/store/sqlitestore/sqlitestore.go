package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"

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
	write      *sql.DB      // one connection, BEGIN IMMEDIATE
	read       *sql.DB      // ReadConns connections, query_only
	statements atomic.Int64 // the statements both pools ran since Open
	lock       *os.File
	migrateMu  sync.Mutex // Migrate calls in this process take turns
	closeOnce  sync.Once
	closeErr   error
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
	if s.write, err = s.openDB(dsn(cfg, false)); err != nil {
		return translate(err, "open %s", cfg.Path)
	}
	s.write.SetMaxOpenConns(1)
	if s.read, err = s.openDB(dsn(cfg, true)); err != nil {
		return translate(err, "open %s", cfg.Path)
	}
	conns := cmp.Or(cfg.ReadConns, 4)
	s.read.SetMaxOpenConns(conns)
	s.read.SetMaxIdleConns(conns)
	return translate(s.write.PingContext(ctx), "open %s", cfg.Path)
}

// openDB opens a pool on dsn whose statements are counted.
func (s *Store) openDB(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(countingConnector{Connector: c, n: &s.statements}), nil
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
		Statements:   s.statements.Load(),
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

// countingConnector wraps the SQLite driver's connector so that every
// statement the store's pools run is counted: each Exec and Query on a
// connection or on a prepared statement, and each BEGIN, COMMIT and
// ROLLBACK (as on PostgreSQL, where they are statements). Preparing a
// statement is not counted; running it is. Counting is one atomic add.
type countingConnector struct {
	driver.Connector
	n *atomic.Int64
}

// innerConn is what the SQLite driver's connections implement and the
// counting connection passes on.
type innerConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// Connect opens a connection of the wrapped connector and counts its
// statements.
func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{innerConn: conn.(innerConn), n: c.n}, nil
}

// countingConn counts the statements run on one connection.
type countingConn struct {
	innerConn
	n *atomic.Int64
}

// Prepare prepares a statement whose runs are counted.
func (c *countingConn) Prepare(query string) (driver.Stmt, error) {
	// sqlcheck: the counting wrapper passes on the SQL database/sql gave it
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext prepares a statement whose runs are counted.
func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	// sqlcheck: the counting wrapper passes on the SQL database/sql gave it
	s, err := c.innerConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &countingStmt{innerStmt: s.(innerStmt), n: c.n}, nil
}

// Begin counts BEGIN.
func (c *countingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx counts BEGIN, and later COMMIT or ROLLBACK.
func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.n.Add(1)
	tx, err := c.innerConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return countingTx{Tx: tx, n: c.n}, nil
}

// ExecContext counts a statement.
func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.n.Add(1)
	// sqlcheck: the counting wrapper passes on the SQL database/sql gave it
	return c.innerConn.ExecContext(ctx, query, args)
}

// QueryContext counts a statement.
func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.n.Add(1)
	// sqlcheck: the counting wrapper passes on the SQL database/sql gave it
	return c.innerConn.QueryContext(ctx, query, args)
}

// countingTx counts the statement that ends a transaction.
type countingTx struct {
	driver.Tx
	n *atomic.Int64
}

// Commit counts COMMIT.
func (t countingTx) Commit() error { t.n.Add(1); return t.Tx.Commit() }

// Rollback counts ROLLBACK.
func (t countingTx) Rollback() error { t.n.Add(1); return t.Tx.Rollback() }

// innerStmt is what the SQLite driver's statements implement.
type innerStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// countingStmt counts each run of a prepared statement through the
// context methods, the ones database/sql calls.
type countingStmt struct {
	innerStmt
	n *atomic.Int64
}

// ExecContext counts a statement.
func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.n.Add(1)
	// sqlcheck: the counting wrapper passes on the SQL database/sql gave it
	return s.innerStmt.ExecContext(ctx, args)
}

// QueryContext counts a statement.
func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.n.Add(1)
	// sqlcheck: the counting wrapper passes on the SQL database/sql gave it
	return s.innerStmt.QueryContext(ctx, args)
}
