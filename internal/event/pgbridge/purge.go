package pgbridge

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// purgeTimeout bounds one purge.
const purgeTimeout = 30 * time.Second

// purgeLoop deletes stored payloads older than PayloadTTL every
// purgeInterval until ctx ends. Every instance purges; the deletes are
// idempotent.
func (b *Bridge) purgeLoop(ctx context.Context, pool *pgxpool.Pool) {
	t := time.NewTicker(purgeInterval(b.cfg.PayloadTTL))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := purge(ctx, pool, b.cfg.PayloadTTL); err != nil && ctx.Err() == nil {
				b.cfg.Log.Warn("event bridge: purge stored events", "err", err)
			}
		}
	}
}

// purge deletes stored payloads older than ttl and returns how many.
func purge(ctx context.Context, pool *pgxpool.Pool, ttl time.Duration) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, purgeTimeout)
	defer cancel()
	tag, err := pool.Exec(ctx, `DELETE FROM event_payloads WHERE created_at < now() - $1 * interval '1 millisecond'`,
		ttl.Milliseconds())
	return tag.RowsAffected(), translate(err, "event bridge: purge stored events")
}
