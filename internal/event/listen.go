package event

import (
	"context"

	"github.com/gathering/gathering/internal/startstop"
)

// Listen starts run on loop with the frames of a subscription to the
// events of types on b (Block overflow: none is dropped). The subscription
// closes when run returns. With a nil b, run gets a nil channel, which
// never delivers.
func Listen(ctx context.Context, b *Bus, types []string, loop *startstop.Loop, run func(ctx context.Context, frames <-chan Frame)) error {
	if b == nil {
		return loop.Start(ctx, func(ctx context.Context) { run(ctx, nil) })
	}
	sub, err := b.Subscribe(SubscribeOptions{Filter: Filter{Types: types}, Overflow: Block})
	if err != nil {
		return err
	}
	err = loop.Start(ctx, func(ctx context.Context) {
		defer sub.Close()
		run(ctx, sub.Frames())
	})
	if err != nil {
		sub.Close()
	}
	return err
}
