// Package event is GatheRing's event bus: one in-process bus that every
// feature publishes to and every live view, stream and internal consumer
// subscribes to.
//
// # Publishing
//
// [Bus.Publish] validates an [Event], gives it an id ([NewID]), a timestamp
// and this instance's id, appends it to a bounded ring and wakes the
// subscribers that want it. It never waits for a subscriber: each
// [Subscription] has its own delivery goroutine that reads the ring at its
// own pace. When a [Transport] is set, the event is then handed to it so
// that other instances receive it through [Bus.Deliver].
//
// # Subscribing
//
// A subscription has a [Filter] (type patterns and topic prefixes), a bounded
// queue and an [Overflow] policy. Up to a quarter of the queue (at most 64
// frames) is the Frames channel's buffer; the rest is held by the delivery
// goroutine, where overflow applies. Live views use [DropOldest]: when the
// queue is full the oldest queued frame is dropped and the client then
// receives a lagged frame saying how many it missed. A DropOldest
// subscription whose reader has stopped stops reading the ring; when the
// reader returns, it skips straight to the newest queue's worth of frames
// and counts the rest as dropped, so a stuck reader costs nothing per event. Internal consumers use
// [Block]: their delivery goroutine waits up to BlockTimeout for room, then
// drops the oldest queued frame and counts a loss; a Block subscriber whose
// backlog outgrows the ring also loses what left the ring. Events from one
// publisher reach every subscriber in the order they were published.
//
// # Batching and dedup
//
// Types with a batch window (token chunks, progress) are coalesced per
// subscriber and per (type, topics) stream: the first event opens a window,
// and when it ends the subscriber receives one batch frame holding the
// window's events in order (the newest 1,000 at most; the last event is
// always there). Before a non-batched event that shares a topic with an open
// batch, that batch is flushed, so a "done" event never overtakes the last
// chunk of its stream. Identical events (same type, topics and SHA-256 of
// data) published within a type's dedup window are stored and delivered
// once.
//
// # History and replay
//
// The ring keeps the latest events (10,000 by default). A subscription with
// Since resumes after that event; when the id has left the ring, the first
// frame is a reset telling the client to refetch its state. [Bus.Reset] sends
// a reset to everyone, in order with the events, after a cross-instance gap.
//
// # Lifecycle
//
// A Bus is a startstop.Service. Publish and Subscribe work from NewBus until
// Stop; Stop closes every subscription (their Frames channels close) and
// waits for their goroutines.
package event
