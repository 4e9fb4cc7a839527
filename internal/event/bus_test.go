package event_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
)

// TestConcurrentPublishersBlockSubscribers: 100 publishers × 1,000 events,
// 10 Block subscribers, each sees every publisher's events in order and
// none is lost. Publishers never wait for subscribers, so a Block subscriber
// is lossless while its backlog fits in the ring: the ring here holds the
// whole run.
func TestConcurrentPublishersBlockSubscribers(t *testing.T) {
	t.Parallel()
	const publishers, each, subscribers = 100, 1000, 10
	b := setup(t, event.Config{RingSize: publishers * each})
	var wg sync.WaitGroup
	errs := make(chan error, subscribers)
	for range subscribers {
		s := subscribe(t, b, event.SubscribeOptions{Overflow: event.Block, BlockTimeout: time.Minute})
		wg.Go(func() { errs <- checkOrder(s, publishers, each) })
	}
	var pubs sync.WaitGroup
	for p := range publishers {
		pubs.Go(func() {
			actor := "pub:" + strconv.Itoa(p)
			for i := range each {
				e := event.Event{Type: "test.seq", Actor: actor, Data: []byte(strconv.Itoa(i))}
				if _, err := b.Publish(context.Background(), e); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	pubs.Wait()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := b.Stats(); st.Published != publishers*each || st.Lost != 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// checkOrder reads publishers × each events and checks each publisher's are
// in order.
func checkOrder(s *event.Subscription, publishers, each int) error {
	nextSeq := make([]int, publishers)
	for range publishers * each {
		f, ok := <-s.Frames()
		if !ok || f.Kind != event.KindEvent {
			return errors.New("subscription ended or sent " + f.Kind)
		}
		p, _ := strconv.Atoi(f.Event.Actor[len("pub:"):])
		i, _ := strconv.Atoi(string(f.Event.Data))
		if i != nextSeq[p] {
			return errors.New("publisher " + strconv.Itoa(p) + ": got " + strconv.Itoa(i) + ", want " + strconv.Itoa(nextSeq[p]))
		}
		nextSeq[p]++
	}
	return nil
}

// fakeTransport records what the bus hands to it.
type fakeTransport struct {
	mu   sync.Mutex
	sent []event.Event
	err  error
}

func (f *fakeTransport) Send(_ context.Context, e event.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, e)
	return f.err
}

func (f *fakeTransport) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

func TestPublishHandsToTransport(t *testing.T) {
	t.Parallel()
	tr := &fakeTransport{}
	b := event.NewBus(event.Config{Instance: "a"})
	b.SetTransport(tr)
	setupStarted(t, b)
	e := publish(t, b, "a.b", `{"x":1}`, "t:1")
	if tr.count() != 1 || tr.sent[0].ID != e.ID || tr.sent[0].Origin != "a" {
		t.Fatalf("transport got %+v", tr.sent)
	}
	tr.mu.Lock()
	tr.err = errors.New("connection lost")
	tr.mu.Unlock()
	s := subscribe(t, b, event.SubscribeOptions{})
	e, err := b.Publish(context.Background(), event.Event{Type: "a.b"})
	if err == nil || e.ID == "" {
		t.Fatalf("event %+v, error %v: want the event and the transport's error", e, err)
	}
	if got := nextEvent(t, s); got.ID != e.ID {
		t.Fatal("event not delivered locally")
	}
}

// setupStarted starts b and stops it when the test ends.
func setupStarted(t *testing.T, b *event.Bus) {
	t.Helper()
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
}

func TestDeliverFromOtherInstanceIgnoresEcho(t *testing.T) {
	t.Parallel()
	tr := &fakeTransport{}
	b := event.NewBus(event.Config{Instance: "a"})
	b.SetTransport(tr)
	setupStarted(t, b)
	s := subscribe(t, b, event.SubscribeOptions{})
	own := publish(t, b, "a.b", "", "t:1")
	if got := nextEvent(t, s); got.ID != own.ID {
		t.Fatalf("got %s", got.ID)
	}
	b.Deliver(own) // the echo of our own event through the transport
	remote := event.Event{ID: event.NewID(time.Now()), Type: "a.c", Topics: []string{"t:1"}, Origin: "b", At: time.Now()}
	b.Deliver(remote)
	if got := nextEvent(t, s); got.ID != remote.ID || got.Origin != "b" {
		t.Fatalf("got %+v, want the remote event (and no echo)", got)
	}
	quiet(t, s, 20*time.Millisecond)
	if tr.count() != 1 {
		t.Fatalf("transport got %d events, want only the local one", tr.count())
	}
	if st := b.Stats(); st.Published != 1 || st.Remote != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestResetReachesEveryone(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{})
	subs := []*event.Subscription{
		subscribe(t, b, event.SubscribeOptions{}),
		subscribe(t, b, event.SubscribeOptions{Overflow: event.Block}),
		subscribe(t, b, event.SubscribeOptions{Filter: event.Filter{Topics: []string{"nothing"}}}),
	}
	before := publish(t, b, "a.b", "", "t:1")
	b.Reset("listener reconnected")
	after := publish(t, b, "a.b", "", "t:1")
	for i, s := range subs {
		if i < 2 {
			if e := nextEvent(t, s); e.ID != before.ID {
				t.Fatalf("subscriber %d: got %s first", i, e.ID)
			}
		}
		if f := next(t, s); f.Kind != event.KindReset || f.Reason != "listener reconnected" {
			t.Fatalf("subscriber %d: frame %+v, want reset", i, f)
		}
		if i < 2 {
			if e := nextEvent(t, s); e.ID != after.ID {
				t.Fatalf("subscriber %d: got %s after the reset", i, e.ID)
			}
		}
	}
}

func TestSetFilter(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{})
	s := subscribe(t, b, event.SubscribeOptions{Filter: event.Filter{Topics: []string{"circles"}}})
	publish(t, b, "a.b", "", "agent:1")
	core := publish(t, b, "a.b", "", "circles:core")
	if e := nextEvent(t, s); e.ID != core.ID {
		t.Fatalf("got %v", e.Topics)
	}
	s.SetFilter(event.Filter{Topics: []string{"agent:1"}})
	publish(t, b, "a.b", "", "circles:core")
	agent := publish(t, b, "a.b", "", "agent:1")
	if e := nextEvent(t, s); e.ID != agent.ID {
		t.Fatalf("got %v after SetFilter", e.Topics)
	}
	s.SetFilter(event.Filter{Types: []string{"x.*"}, Topics: []string{"*"}})
	publish(t, b, "a.b", "", "agent:1")
	x := publish(t, b, "x.y", "")
	if e := nextEvent(t, s); e.ID != x.ID {
		t.Fatalf("got %s %v", e.Type, e.Topics)
	}
}

func TestStopClosesSubscriptions(t *testing.T) {
	t.Parallel()
	b := event.NewBus(event.Config{})
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	s, err := b.Subscribe(event.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err == nil {
		t.Fatal("second Start succeeded")
	}
	if err := b.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-s.Frames(); ok {
		t.Fatal("frames still open after Stop")
	}
	s.Close() // harmless after Stop
	if _, err := b.Publish(context.Background(), event.Event{Type: "a.b"}); gathering.ErrorCode(err) != gathering.EUNAVAILABLE {
		t.Fatalf("publish after stop: %v", err)
	}
	if _, err := b.Subscribe(event.SubscribeOptions{}); gathering.ErrorCode(err) != gathering.EUNAVAILABLE {
		t.Fatalf("subscribe after stop: %v", err)
	}
	b.Deliver(event.Event{Type: "a.b", Origin: "other"})
	b.Reset("late")
}

func TestCloseEndsOneSubscription(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{})
	a := subscribe(t, b, event.SubscribeOptions{})
	c, err := b.Subscribe(event.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, b, "a.b", "")
	c.Close()
	c.Close()
	if _, ok := <-c.Frames(); ok {
		// A frame already buffered may still be read; the channel must then close.
		if _, ok := <-c.Frames(); ok {
			t.Fatal("frames still open after Close")
		}
	}
	nextEvent(t, a)
	if st := b.Stats(); st.Subscribers != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSubscribeRejectsBadOptions(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{})
	for _, o := range []event.SubscribeOptions{{Queue: -1}, {BlockTimeout: -1}, {Overflow: 7}} {
		if _, err := b.Subscribe(o); gathering.ErrorCode(err) != gathering.EINVALID {
			t.Errorf("%+v: error %v", o, err)
		}
	}
}

// TestBlockTimeoutCountsLoss: a Block subscriber that stops reading holds
// delivery for BlockTimeout, then loses the oldest frame, and the next frame
// it reads is lagged.
func TestBlockTimeoutCountsLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, event.Config{})
		s := subscribe(t, b, event.SubscribeOptions{Queue: 4, Overflow: event.Block, BlockTimeout: 100 * time.Millisecond})
		for i := range 6 {
			publish(t, b, "a.b", strconv.Itoa(i))
		}
		synctest.Wait()
		if st := s.Stats(); st.Lost != 0 || st.Queued != 4 {
			t.Fatalf("before the timeout: %+v", st)
		}
		time.Sleep(150 * time.Millisecond)
		synctest.Wait()
		if st := s.Stats(); st.Lost != 1 {
			t.Fatalf("after one timeout: %+v", st)
		}
		time.Sleep(time.Second)
		var got []string
		for range 5 {
			f := next(t, s)
			if f.Kind == event.KindLagged {
				got = append(got, "lagged:"+strconv.Itoa(f.Missed))
			} else {
				got = append(got, string(f.Event.Data))
			}
		}
		// The channel buffer (1 frame) keeps event 0; events 1 and 2 were
		// lost from the queue, one per timeout.
		want := []string{"0", "lagged:2", "3", "4", "5"}
		if !slices.Equal(got, want) {
			t.Fatalf("frames %v, want %v", got, want)
		}
	})
}
