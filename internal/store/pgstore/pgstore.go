package pgstore

import (
	"cmp"
	"context"
	"errors"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Config says how to reach PostgreSQL. The zero value of every field but URL
// is a useful default.
type Config struct {
	// URL is a postgres:// connection URL. Unknown query parameters (such as
	// search_path) are sent to the server as runtime parameters.
	URL string
	// MaxConns caps the pool; 0 means 10.
	MaxConns int32
	// StatementTimeout sets the server's statement_timeout; 0 keeps the
	// server's (or the URL's) setting.
	StatementTimeout time.Duration
	// ApplicationName shows in pg_stat_activity; empty means the URL's
	// application_name, else "gathering".
	ApplicationName string
}

// Store is a store.Store on a PostgreSQL connection pool.
type Store struct {
	pool       *pgxpool.Pool
	statements *counter // the statements sent since Open
}

var _ store.Store = (*Store)(nil)

// Open builds the pool and pings the database once with ctx. It fails with
// EINVALID when the URL cannot be parsed and EUNAVAILABLE when the database
// does not answer; messages never show the URL's password.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	pcfg, err := poolConfig(cfg)
	if err != nil {
		return nil, err
	}
	statements := &counter{}
	pcfg.ConnConfig.Tracer = statements
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, &gathering.Error{Code: gathering.EINVALID, Message: "cannot use PostgreSQL URL " + maskURL(cfg.URL), Err: err}
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, &gathering.Error{
			Code:    gathering.EUNAVAILABLE,
			Message: "PostgreSQL at " + maskURL(cfg.URL) + " does not answer",
			Err:     errors.New(maskURL(err.Error())),
		}
	}
	return &Store{pool: pool, statements: statements}, nil
}

// poolConfig turns cfg into a pgxpool configuration, keeping the runtime
// parameters the URL already carries.
func poolConfig(cfg Config) (*pgxpool.Config, error) {
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, &gathering.Error{
			Code:    gathering.EINVALID,
			Message: "invalid PostgreSQL URL " + maskURL(cfg.URL),
			Err:     errors.New(maskURL(err.Error())),
		}
	}
	pcfg.MaxConns = cmp.Or(cfg.MaxConns, 10)
	params := pcfg.ConnConfig.RuntimeParams
	params["application_name"] = cmp.Or(cfg.ApplicationName, params["application_name"], "gathering")
	if cfg.StatementTimeout > 0 {
		params["statement_timeout"] = strconv.FormatInt(cfg.StatementTimeout.Milliseconds(), 10)
	}
	return pcfg, nil
}

var (
	urlPassword     = regexp.MustCompile(`(://[^:/@\s]*:)[^@\s]*@`)
	keywordPassword = regexp.MustCompile(`(password=)[^&\s]*`)
)

// maskURL hides the password in a connection URL (user info or a password
// parameter), or in any text that quotes one.
func maskURL(s string) string {
	s = urlPassword.ReplaceAllString(s, "${1}xxxxx@")
	return keywordPassword.ReplaceAllString(s, "${1}xxxxx")
}

// Backend reports store.Postgres.
func (s *Store) Backend() store.Backend { return store.Postgres }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return translate(s.pool.Ping(ctx), "ping PostgreSQL")
}

// Stats reports the connection pool.
func (s *Store) Stats() store.PoolStats {
	st := s.pool.Stat()
	return store.PoolStats{
		MaxConns:     int(st.MaxConns()),
		OpenConns:    int(st.TotalConns()),
		InUse:        int(st.AcquiredConns()),
		Idle:         int(st.IdleConns()),
		WaitCount:    st.EmptyAcquireCount(),
		WaitDuration: st.EmptyAcquireWaitTime(),
		Statements:   s.statements.n.Load(),
	}
}

// Close waits for acquired connections to be released and closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// counter is a pgx tracer that counts the statements sent to the server:
// every Query, QueryRow and Exec, and every statement of a batch. It only
// adds to an atomic counter, so it costs next to nothing.
type counter struct {
	n atomic.Int64
}

var (
	_ pgx.QueryTracer = (*counter)(nil)
	_ pgx.BatchTracer = (*counter)(nil)
)

// TraceQueryStart counts a statement.
func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

// TraceQueryEnd does nothing.
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart does nothing: the batch's statements are counted one by
// one as their results are read.
func (c *counter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

// TraceBatchQuery counts one statement of a batch.
func (c *counter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) { c.n.Add(1) }

// TraceBatchEnd does nothing.
func (c *counter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
