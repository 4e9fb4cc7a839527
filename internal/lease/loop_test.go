package lease_test

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
	"github.com/gathering/gathering/internal/lease"
	"github.com/gathering/gathering/internal/store"
)

// journal records what a loop did, in order.
type journal struct {
	mu   sync.Mutex
	done []string
}

// note records what.
func (j *journal) note(what string) {
	j.mu.Lock()
	j.done = append(j.done, what)
	j.mu.Unlock()
}

// take returns what was recorded since the last take.
func (j *journal) take() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	done := j.done
	j.done = nil
	return done
}

// startLoop starts a loop over bus that records into j and stops it when
// the test ends. Its first claim calls Wake three times: the loop is busy,
// so they fold into one more claim.
func startLoop(t *testing.T, j *journal, lifetime time.Duration, bus *event.Bus, types ...string) *lease.Loop {
	t.Helper()
	var l *lease.Loop
	first := true
	l = lease.NewLoop(lease.LoopOptions{
		Lease: lifetime,
		Claim: func(context.Context) {
			j.note("claim")
			if first {
				first = false
				l.Wake()
				l.Wake()
				l.Wake()
			}
		},
		Renew: func(context.Context) { j.note("renew") },
		IDKey: "work_id",
		Hear:  func(typ, id string) { j.note("hear " + typ + " " + id) },
	})
	if err := l.Start(t.Context(), bus, types); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return l
}

// TestLoopClaimsAtOnceWhenWokenAndEveryBeat: a loop claims when it starts,
// once for the wakes that came while it was busy, and every third of the
// lease renews then claims; after Stop it does nothing more.
func TestLoopClaimsAtOnceWhenWokenAndEveryBeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const lifetime = 30 * time.Second
		j := &journal{}
		l := startLoop(t, j, lifetime, nil)
		synctest.Wait()
		if got := j.take(); !slices.Equal(got, []string{"claim", "claim"}) {
			t.Fatalf("at start: %v", got)
		}
		l.Wake()
		synctest.Wait()
		if got := j.take(); !slices.Equal(got, []string{"claim"}) {
			t.Fatalf("woken: %v", got)
		}
		time.Sleep(lifetime/3 - time.Millisecond)
		synctest.Wait()
		if got := j.take(); len(got) != 0 {
			t.Fatalf("before the first beat: %v", got)
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if got := j.take(); !slices.Equal(got, []string{"renew", "claim"}) {
			t.Fatalf("at the first beat: %v", got)
		}
		if err := l.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		l.Wake()
		time.Sleep(lifetime)
		synctest.Wait()
		if got := j.take(); len(got) != 0 {
			t.Fatalf("after Stop: %v", got)
		}
	})
}

// TestLoopHearsTheBus: the loop hears the events of its types with the
// id of the work they name, passes over data it cannot read, and keeps
// beating once the bus has stopped and closed its subscription.
func TestLoopHearsTheBus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const lifetime = 3 * time.Second
		bus := event.NewBus(event.Config{})
		if err := bus.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		j := &journal{}
		startLoop(t, j, lifetime, bus, "work.created")
		synctest.Wait()
		j.take()
		for _, e := range []struct{ typ, data string }{
			{"work.created", `{"work_id": "w1", "other": 2}`},
			{"work.other", `{"work_id": "w2"}`}, // not a type the loop listens to
			{"work.created", `{"work_id": 3}`},  // not an id
			{"work.created", `["w4"]`},          // not an object
			{"work.created", `{"other": "w5"}`}, // no id
		} {
			if _, err := bus.Publish(context.Background(), event.Event{Type: e.typ, Topics: []string{"work:1"}, Data: []byte(e.data)}); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if got := j.take(); !slices.Equal(got, []string{"hear work.created w1", "hear work.created "}) {
			t.Fatalf("heard %q", got)
		}
		if err := bus.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(lifetime / 3)
		synctest.Wait()
		if got := j.take(); !slices.Equal(got, []string{"renew", "claim"}) {
			t.Fatalf("after the bus stopped: %v", got)
		}
	})
}

// work is a piece of work with a lease for ReleaseAll.
type work struct{ id, owner string }

// listOf serves works by page and records the offsets asked for.
func listOf(works []work, offsets *[]int, fail error) func(context.Context, store.Page) ([]work, int, error) {
	return func(_ context.Context, p store.Page) ([]work, int, error) {
		*offsets = append(*offsets, p.Offset)
		if fail != nil && p.Offset > 0 {
			return nil, 0, fail
		}
		end := min(p.Offset+p.Limit, len(works))
		return works[min(p.Offset, end):end], len(works), nil
	}
}

func leaseOfWork(w work) store.Lease { return store.Lease{RunID: w.id, Owner: w.owner, Epoch: 1} }

// TestReleaseAll: ReleaseAll pages to the end of the list, releases only
// the leases that have an owner, and stops at the first failure.
func TestReleaseAll(t *testing.T) {
	works := make([]work, 200) // two full pages: a third, empty, page ends the list
	var owned []string
	for i := range works {
		works[i] = work{id: "w" + strconv.Itoa(i)}
		if i%3 != 0 {
			works[i].owner = "old"
			owned = append(owned, works[i].id)
		}
	}
	var offsets []int
	var released []string
	release := func(_ context.Context, l store.Lease, _ time.Time) error {
		released = append(released, l.RunID)
		return nil
	}
	if err := lease.ReleaseAll(context.Background(), listOf(works, &offsets, nil), leaseOfWork, release); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(offsets, []int{0, 100, 200}) || !slices.Equal(released, owned) {
		t.Fatalf("pages %v, released %d of %d owned: %v", offsets, len(released), len(owned), released)
	}

	offsets, released = nil, nil
	if err := lease.ReleaseAll(context.Background(), listOf(works, &offsets, errLost), leaseOfWork, release); !errors.Is(err, errLost) {
		t.Fatalf("a failing list: %v", err)
	}
	if !slices.Equal(offsets, []int{0, 100}) || len(released) != 66 {
		t.Fatalf("a failing second page: pages %v, released %d", offsets, len(released))
	}

	offsets, released = nil, nil
	refuse := func(_ context.Context, l store.Lease, _ time.Time) error {
		released = append(released, l.RunID)
		return errStop
	}
	if err := lease.ReleaseAll(context.Background(), listOf(works, &offsets, nil), leaseOfWork, refuse); !errors.Is(err, errStop) {
		t.Fatalf("a failing release: %v", err)
	}
	if len(released) != 1 || len(offsets) != 1 {
		t.Fatalf("a failing release went on: pages %v, released %v", offsets, released)
	}
}
