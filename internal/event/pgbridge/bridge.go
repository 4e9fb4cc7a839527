package pgbridge

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/startstop"
)

// Bus is what the bridge needs of the in-process bus: *event.Bus, or a fake
// in tests.
type Bus interface {
	// Deliver hands over an event published on another instance.
	Deliver(e event.Event)
	// Reset tells every subscriber to refetch: events may have been missed.
	Reset(reason string)
	// Instance is this instance's id, the Origin of the events it publishes.
	Instance() string
}

// Bridge carries events between instances through PostgreSQL. It is an
// event.Transport and a startstop.Service; build it with New.
type Bridge struct {
	cfg  Config
	bus  Bus
	self string // bus.Instance(), read once

	pool       atomic.Pointer[pgxpool.Pool] // nil unless running
	connected  atomic.Bool
	beforeDial func() error // tests make reconnection attempts fail with it

	mu   sync.Mutex     // serialises Start
	loop startstop.Loop // owns the listener and the purger
}

var (
	_ event.Transport   = (*Bridge)(nil)
	_ startstop.Service = (*Bridge)(nil)
)

// poolSize caps the connections Send and the payload reads use.
const poolSize = 4

// dialTimeout bounds each connection attempt of the listener.
const dialTimeout = 10 * time.Second

// resetReason is what subscribers are told after an outage.
const resetReason = "event stream interrupted"

// New returns a Bridge between bus and the database at cfg.URL. Nothing
// connects until Start, which also validates cfg.
func New(cfg Config, bus Bus) *Bridge {
	return &Bridge{cfg: cfg.withDefaults(), bus: bus, self: bus.Instance()}
}

// Connected reports whether the listener holds a live connection.
func (b *Bridge) Connected() bool { return b.connected.Load() }

// Start validates the configuration, opens the pool and the listening
// connection, and launches the listener and the payload purger. It fails
// with EINVALID on a bad Config and EUNAVAILABLE when PostgreSQL does not
// answer; once it returns nil, events sent from other instances arrive.
func (b *Bridge) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pool.Load() != nil {
		return fmt.Errorf("event bridge %w", startstop.ErrRunning)
	}
	if err := b.cfg.validate(); err != nil {
		return err
	}
	pool, err := b.newPool()
	if err != nil {
		return err
	}
	conn, err := b.dial(ctx)
	if err != nil {
		pool.Close()
		return err
	}
	b.pool.Store(pool)
	b.connected.Store(true)
	return b.loop.Start(ctx, func(ctx context.Context) { b.run(ctx, pool, conn) })
}

// Stop ends the listener and the purger and waits for them, giving up when
// ctx ends; Send fails from then on. Stopping a bridge that is not running
// does nothing.
func (b *Bridge) Stop(ctx context.Context) error {
	b.pool.Store(nil) // Send fails from now on
	return translate(b.loop.Stop(ctx), "stop the event bridge")
}

// run owns the bridge's goroutines: it listens until ctx ends while a second
// goroutine purges old payloads, then closes the pool (after any Send still
// using it).
func (b *Bridge) run(ctx context.Context, pool *pgxpool.Pool, conn *pgx.Conn) {
	defer pool.Close()
	var wg sync.WaitGroup
	wg.Go(func() { b.purgeLoop(ctx, pool) })
	b.listen(ctx, pool, conn)
	wg.Wait()
}

// newPool builds the small pool Send and payload reads use. It connects
// lazily.
func (b *Bridge) newPool() (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig(b.cfg.URL)
	if err != nil {
		return nil, &gathering.Error{Code: gathering.EINVALID, Message: "event bridge: invalid PostgreSQL URL", Err: err}
	}
	pcfg.MaxConns = poolSize
	setApplicationName(pcfg.ConnConfig)
	pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	if err != nil {
		return nil, &gathering.Error{Code: gathering.EINVALID, Message: "event bridge: cannot use PostgreSQL URL", Err: err}
	}
	return pool, nil
}

// setApplicationName names the connections "gathering" unless the URL names
// them.
func setApplicationName(cfg *pgx.ConnConfig) {
	params := cfg.RuntimeParams
	params["application_name"] = cmp.Or(params["application_name"], "gathering")
}
