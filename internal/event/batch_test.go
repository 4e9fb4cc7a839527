package event_test

import (
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gathering/gathering/internal/event"
)

// progress reads the progress value of a test event.
func progress(t *testing.T, e event.Event) int {
	t.Helper()
	n, err := strconv.Atoi(string(e.Data))
	if err != nil {
		t.Fatalf("data %s", e.Data)
	}
	return n
}

// TestBatchingCoalescesProgress: 10,000 progress events for one run within
// 1 s and a 50 ms window reach a subscriber as at most ~25 frames, every
// value in order and the final one last; the run's completion, published
// right after, is not overtaken by the last batch.
func TestBatchingCoalescesProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, event.Config{BatchWindows: map[string]time.Duration{"run.progress": 50 * time.Millisecond}})
		s := subscribe(t, b, event.SubscribeOptions{Filter: event.Filter{Topics: []string{"run:42"}}})
		const total = 10_000
		for i := range total {
			publish(t, b, "run.progress", strconv.Itoa(i), "run:42")
			if i%10 == 9 {
				time.Sleep(time.Millisecond)
			}
		}
		publish(t, b, "run.completed", "", "run:42")
		frames, want := 0, 0
		for f := next(t, s); f.Kind != event.KindEvent || f.Event.Type != "run.completed"; f = next(t, s) {
			frames++
			batch := f.Batch
			if f.Kind == event.KindEvent {
				batch = []event.Event{f.Event}
			}
			for _, e := range batch {
				if got := progress(t, e); got != want {
					t.Fatalf("progress %d, want %d", got, want)
				}
				want++
			}
		}
		t.Logf("%d events in %d frames", want, frames)
		if want != total || frames > 25 {
			t.Fatalf("%d events in %d frames, want %d in at most 25", want, frames, total)
		}
	})
}

// TestBatchKeepsNewestAndFinal: a window with more events than a batch
// carries keeps the newest, ending with the final value, and streams with
// other topics are batched apart.
func TestBatchKeepsNewestAndFinal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, event.Config{BatchWindows: map[string]time.Duration{"agent.token": 50 * time.Millisecond}})
		s := subscribe(t, b, event.SubscribeOptions{})
		for i := range 3000 {
			publish(t, b, "agent.token", strconv.Itoa(i), "agent:1")
		}
		publish(t, b, "agent.token", "7", "agent:2")
		time.Sleep(60 * time.Millisecond)
		f := next(t, s)
		if f.Kind != event.KindBatch || len(f.Batch) != 1000 {
			t.Fatalf("frame %s with %d events, want a batch of 1000", f.Kind, len(f.Batch))
		}
		if first, last := progress(t, f.Batch[0]), progress(t, f.Batch[999]); first != 2000 || last != 2999 {
			t.Fatalf("batch %d..%d, want 2000..2999", first, last)
		}
		if e := nextEvent(t, s); e.Topics[0] != "agent:2" {
			t.Fatalf("second stream: %+v", e)
		}
		quiet(t, s, time.Second)
	})
}
