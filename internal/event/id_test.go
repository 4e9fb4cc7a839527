package event_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/event"
)

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idMillis decodes the timestamp of an id.
func idMillis(id string) int64 {
	var ms int64
	for _, c := range id[:10] {
		ms = ms<<5 | int64(strings.IndexRune(crockford, c))
	}
	return ms
}

func TestNewIDFormat(t *testing.T) {
	t.Parallel()
	now := time.Now()
	id := event.NewID(now)
	if len(id) != 26 || strings.Trim(id, crockford) != "" {
		t.Fatalf("id %q is not 26 Crockford base32 characters", id)
	}
	// Ids stay monotonic across the process, so the timestamp may be that of
	// a later id already issued by a parallel test.
	if got := idMillis(id); got < now.UnixMilli() || got > now.Add(3*time.Hour).UnixMilli() {
		t.Fatalf("timestamp %d, want %d", got, now.UnixMilli())
	}
}

func TestBusIDsFollowItsClock(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	b := setup(t, event.Config{Now: func() time.Time { return at }})
	e := publish(t, b, "a.b", "")
	if idMillis(e.ID) != at.UnixMilli() || !e.At.Equal(at) {
		t.Fatalf("id %s at %v", e.ID, e.At)
	}
	if id := event.NewID(time.Now()); idMillis(id) >= at.UnixMilli() {
		t.Fatal("a bus's clock moved the process's ids")
	}
}

func TestNewIDSortsByTimeAndStaysMonotonic(t *testing.T) {
	t.Parallel()
	base := time.Now().Add(time.Hour) // ahead of every other test's ids
	ids := []string{
		event.NewID(base),
		event.NewID(base), // same millisecond
		event.NewID(base),
		event.NewID(base.Add(-time.Second)), // clock stepped back
		event.NewID(base.Add(time.Millisecond)),
		event.NewID(base.Add(time.Hour)),
	}
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Fatalf("ids not strictly increasing: %v", ids)
	}
}

func TestNewIDUniqueAndMonotonicUnderConcurrency(t *testing.T) {
	t.Parallel()
	const goroutines, each = 8, 5000
	results := make([][]string, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				results[g] = append(results[g], event.NewID(time.Now()))
			}
		})
	}
	wg.Wait()
	seen := make(map[string]bool, goroutines*each)
	for _, ids := range results {
		for i, id := range ids {
			if i > 0 && id <= ids[i-1] {
				t.Fatalf("not increasing within a goroutine: %s after %s", id, ids[i-1])
			}
			if seen[id] {
				t.Fatalf("duplicate id %s", id)
			}
			seen[id] = true
		}
	}
}
