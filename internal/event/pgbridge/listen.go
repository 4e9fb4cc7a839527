package pgbridge

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gathering/gathering/internal/gathering"
)

// loadTimeout bounds reading one stored payload.
const loadTimeout = 5 * time.Second

// closeTimeout bounds closing the listening connection politely.
const closeTimeout = time.Second

// listen receives notifications on conn until ctx ends. When the connection
// is lost it logs a warning, reconnects with backoff, logs the recovery and
// resets the bus. A connection that lived at least MaxBackoff counts as
// stable: the next reconnection starts over from an immediate attempt.
func (b *Bridge) listen(ctx context.Context, pool *pgxpool.Pool, conn *pgx.Conn) {
	bo := newBackoff(b.cfg.MinBackoff, b.cfg.MaxBackoff)
	for {
		up := time.Now()
		err := b.receive(ctx, pool, conn)
		b.connected.Store(false)
		closeConn(conn)
		if ctx.Err() != nil {
			return
		}
		if time.Since(up) >= b.cfg.MaxBackoff {
			bo.reset()
		}
		b.cfg.Log.Warn("event bridge: connection lost; reconnecting", "channel", b.cfg.Channel, "err", err)
		down := time.Now()
		if conn = b.reconnect(ctx, bo); conn == nil {
			return
		}
		b.cfg.Log.Info("event bridge: connection restored; resetting subscribers",
			"channel", b.cfg.Channel, "down", time.Since(down).Round(time.Millisecond))
		b.bus.Reset(resetReason)
	}
}

// reconnect dials, waiting as bo says before each attempt, until it gets a
// listening connection, or returns nil once ctx ends.
func (b *Bridge) reconnect(ctx context.Context, bo *backoff) *pgx.Conn {
	for attempt := 1; ; attempt++ {
		if !sleep(ctx, bo.next()) {
			return nil
		}
		conn, err := b.dial(ctx)
		if err == nil {
			b.connected.Store(true)
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		b.cfg.Log.Debug("event bridge: reconnection failed", "attempt", attempt, "err", err)
	}
}

// dial opens the dedicated listening connection (never one from the pool)
// and runs LISTEN on it.
func (b *Bridge) dial(ctx context.Context) (*pgx.Conn, error) {
	if b.beforeDial != nil {
		if err := b.beforeDial(); err != nil {
			return nil, err
		}
	}
	ccfg, err := pgx.ParseConfig(b.cfg.URL)
	if err != nil {
		return nil, &gathering.Error{Code: gathering.EINVALID, Message: "event bridge: invalid PostgreSQL URL", Err: err}
	}
	setApplicationName(ccfg)
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, ccfg)
	if err != nil {
		return nil, translate(err, "event bridge: connect the listener")
	}
	// sqlcheck: LISTEN cannot take a parameter; the channel is validated and quoted with pgx.Identifier
	if _, err := conn.Exec(ctx, listenStatement(b.cfg.Channel)); err != nil {
		closeConn(conn)
		return nil, translate(err, "event bridge: listen on %s", b.cfg.Channel)
	}
	return conn, nil
}

// listenStatement is LISTEN on channel, quoted as an identifier. Config
// validation has already restricted the name to ^[a-z_][a-z0-9_]{0,62}$.
func listenStatement(channel string) string {
	return "LISTEN " + pgx.Identifier{channel}.Sanitize()
}

// receive hands each notification on conn to handle until the connection
// fails or ctx ends, and returns why it stopped.
func (b *Bridge) receive(ctx context.Context, pool *pgxpool.Pool, conn *pgx.Conn) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return translate(err, "event bridge: wait for notifications")
		}
		b.handle(ctx, pool, n.Payload)
	}
}

// handle decodes one notification, drops this instance's own echo, loads a
// stored body when the notification points to one, and delivers the event.
// An event whose body cannot be loaded is lost: the bus is reset.
func (b *Bridge) handle(ctx context.Context, pool *pgxpool.Pool, payload string) {
	m, err := decode(payload)
	if err != nil {
		b.cfg.Log.Warn("event bridge: dropping a notification", "channel", b.cfg.Channel, "err", err)
		return
	}
	if m.Origin == b.self {
		return
	}
	if m.Ref != "" {
		if m, err = load(ctx, pool, m.Ref); err != nil {
			b.lost(ctx, err)
			return
		}
	}
	b.bus.Deliver(m.event())
}

// lost reports an event whose body could not be loaded and resets the bus,
// unless the bridge is stopping.
func (b *Bridge) lost(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	b.cfg.Log.Warn("event bridge: lost an event; resetting subscribers", "err", err)
	b.bus.Reset("event payload lost")
}

// load reads and decodes the stored body ref points to.
func load(ctx context.Context, pool *pgxpool.Pool, ref string) (message, error) {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	var body string
	err := pool.QueryRow(ctx, `SELECT body FROM event_payloads WHERE id = $1`, ref).Scan(&body)
	if err != nil {
		return message{}, translate(err, "event bridge: load stored event %s", ref)
	}
	return decode(body)
}

// closeConn closes conn, waiting at most closeTimeout for the server.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_ = conn.Close(ctx)
}

// sleep waits d, or less when ctx ends first, and reports whether ctx is
// still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
