package tool

import "context"

type idempotencyKey struct{}

// WithIdempotencyKey returns a context that asks the tools run with it to
// send key with their side effects (the http and notify tools send it as
// the Idempotency-Key header), so a receiver can tell a retried call from a
// new one. Pipelines use "<run_id>:<node_id>".
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, key)
}

// IdempotencyKey returns the key WithIdempotencyKey set, or "".
func IdempotencyKey(ctx context.Context) string {
	key, _ := ctx.Value(idempotencyKey{}).(string)
	return key
}
