package lease_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/lease"
	"github.com/gathering/gathering/internal/store"
)

var (
	errLost = errors.New("lost")
	errStop = errors.New("stop")
)

// hold starts a piece of work that runs until it is cut off or release is
// closed, and reports its context's cause on ended.
func hold(s *lease.Set[string], id string, release <-chan struct{}, ended chan<- error) {
	ctx, cancel := context.WithCancelCause(context.Background())
	_ = s.Go(store.Lease{RunID: id, Owner: "me", Epoch: 1}, "value of "+id, cancel, func() {
		select {
		case <-ctx.Done():
		case <-release:
		}
		ended <- context.Cause(ctx)
	})
}

func TestSetRoomCancelAndRenew(t *testing.T) {
	room := make(chan struct{}, 10)
	s := lease.New[string](2, func() { room <- struct{}{} })
	ended := make(chan error, 10)
	hold(s, "a", nil, ended)
	hold(s, "b", nil, ended)
	if s.Room(1) || !s.Room(0) {
		t.Fatal("a full set has room")
	}
	if v, ok := s.Get("a"); !ok || v != "value of a" {
		t.Fatalf("Get: %q %v", v, ok)
	}
	s.Cancel("a", errStop)
	if err := <-ended; !errors.Is(err, errStop) {
		t.Fatalf("cancelled with %v", err)
	}
	<-room
	if !s.Room(1) {
		t.Fatal("no room after a piece ended")
	}
	var renewed []store.Lease
	err := s.Renew(context.Background(), func(_ context.Context, ls []store.Lease) ([]string, error) {
		renewed = ls
		return []string{"b"}, errors.New("partly")
	}, errLost)
	if err == nil || len(renewed) != 1 || renewed[0].RunID != "b" {
		t.Fatalf("renew: %v %v", renewed, err)
	}
	if err := <-ended; !errors.Is(err, errLost) {
		t.Fatalf("lost lease cut off with %v", err)
	}
}

func TestSetStopDrainsThenCutsOff(t *testing.T) {
	s := lease.New[string](5, nil)
	ended := make(chan error, 10)
	finishes := make(chan struct{})
	hold(s, "quick", finishes, ended)
	hold(s, "stuck", nil, ended)
	go func() { time.Sleep(50 * time.Millisecond); close(finishes) }()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	s.Stop(ctx, errStop)
	got := []string{}
	for range 2 {
		err := <-ended
		got = append(got, map[bool]string{true: "cut off", false: "finished"}[errors.Is(err, errStop)])
	}
	if slices.Sort(got); !slices.Equal(got, []string{"cut off", "finished"}) {
		t.Fatalf("ends %v", got)
	}
	select {
	case <-s.Stopping():
	default:
		t.Fatal("Stopping not closed")
	}
	if s.Room(1) {
		t.Fatal("a stopped set has room")
	}
	s.Stop(context.Background(), errStop) // twice is fine
	if s.Go(store.Lease{RunID: "late"}, "", func(error) {}, func() { t.Error("work ran after Stop") }) {
		t.Fatal("Go after Stop")
	}
}

func TestFill(t *testing.T) {
	s := lease.New[string](2, nil)
	release := make(chan struct{})
	defer close(release)
	ended := make(chan error, 10)
	var claimed []string
	next := 0
	claim := func(context.Context) (string, error) {
		if next++; next > 3 {
			return "", gathering.Errorf(gathering.ENOTFOUND, "none")
		}
		return "w" + strconv.Itoa(next), nil
	}
	start := func(id string) { claimed = append(claimed, id); hold(s, id, release, ended) }
	if err := lease.Fill(context.Background(), s, claim, start); err != nil || !slices.Equal(claimed, []string{"w1", "w2"}) {
		t.Fatalf("a set with room for 2 claimed %v (%v)", claimed, err)
	}
	broken := lease.New[string](5, nil)
	if err := lease.Fill(context.Background(), broken, func(context.Context) (string, error) { return "", errLost }, func(string) {}); !errors.Is(err, errLost) {
		t.Fatalf("a failing claim: %v", err)
	}
	if err := lease.Fill(context.Background(), broken, func(context.Context) (string, error) {
		return "", gathering.Errorf(gathering.ENOTFOUND, "none")
	}, func(string) {}); err != nil {
		t.Fatalf("nothing to claim: %v", err)
	}
}

// TestSetLaterClaimOutlivesTheEarlierWork: the same id claimed again (a
// later epoch) while the earlier work still finishes stays held when the
// earlier work ends.
func TestSetLaterClaimOutlivesTheEarlierWork(t *testing.T) {
	s := lease.New[string](2, nil)
	ended := make(chan error, 2)
	releaseFirst := make(chan struct{})
	hold(s, "a", releaseFirst, ended)
	ctx, cancel := context.WithCancelCause(context.Background())
	_ = s.Go(store.Lease{RunID: "a", Owner: "me", Epoch: 2}, "second", cancel, func() {
		<-ctx.Done()
		ended <- context.Cause(ctx)
	})
	close(releaseFirst)
	if err := <-ended; err != nil {
		t.Fatalf("the first work ended with %v", err)
	}
	if v, ok := s.Get("a"); !ok || v != "second" {
		t.Fatalf("after the first work ended, Get = %q %v; want the second claim", v, ok)
	}
	s.Cancel("a", errStop)
	if err := <-ended; !errors.Is(err, errStop) {
		t.Fatalf("the second work ended with %v", err)
	}
	s.Stop(context.Background(), errStop)
}
