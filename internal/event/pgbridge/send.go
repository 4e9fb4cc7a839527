package pgbridge

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
)

// Send publishes e to every instance listening on the channel, this one
// included (the listener drops its own echo). An event without Origin is
// sent as this instance's. Events sent one after another arrive in that
// order. It fails with EUNAVAILABLE when the bridge is not running or the
// database does not answer, EINVALID when e.Data is not JSON.
func (b *Bridge) Send(ctx context.Context, e event.Event) error {
	pool := b.pool.Load()
	if pool == nil {
		return gathering.Errorf(gathering.EUNAVAILABLE, "event bridge is not running")
	}
	if e.Origin == "" {
		e.Origin = b.self
	}
	payload, err := encode(e)
	if err != nil {
		return err
	}
	if len(payload) > maxInline {
		return b.sendStored(ctx, pool, e, payload)
	}
	_, err = pool.Exec(ctx, `SELECT pg_notify($1, $2)`, b.cfg.Channel, string(payload))
	return translate(err, "notify event %s", e.ID)
}

// sendStored stores a payload too large for a notification and notifies a
// pointer to it, in one transaction: the notification is delivered only
// once the row is committed.
func (b *Bridge) sendStored(ctx context.Context, pool *pgxpool.Pool, e event.Event, payload []byte) error {
	ref := newRef()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO event_payloads (id, body) VALUES ($1, $2)`, ref, string(payload)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, b.cfg.Channel, string(pointer(ref, e.Origin)))
		return err
	})
	return translate(err, "store and notify event %s (%d bytes)", e.ID, len(payload))
}
