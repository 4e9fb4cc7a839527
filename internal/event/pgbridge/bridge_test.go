package pgbridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/event/pgbridge"
	"github.com/gathering/gathering/internal/gathering"
)

// newEvent returns an event of instance origin with data of about size
// bytes.
func newEvent(origin string, i, size int) event.Event {
	data, _ := json.Marshal(map[string]any{"i": i, "blob": strings.Repeat("x", size)})
	return event.Event{
		ID: fmt.Sprintf("%s-%06d", origin, i), Type: "test.event", Topics: []string{"run:42", "agent:3"},
		Actor: "user:1", Data: data, At: time.Now().UTC(), Origin: origin,
	}
}

// sameEvent fails unless got is want as it crossed.
func sameEvent(t *testing.T, got, want event.Event) {
	t.Helper()
	if got.ID != want.ID || got.Type != want.Type || strings.Join(got.Topics, ",") != strings.Join(want.Topics, ",") ||
		got.Actor != want.Actor || string(got.Data) != string(want.Data) || !got.At.Equal(want.At) || got.Origin != want.Origin {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestEventCrossesAndEchoIsIgnored(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a, busA := f.start(t, "a")
	b, busB := f.start(t, "b")
	sent := newEvent("a", 1, 10)
	if err := a.Send(t.Context(), sent); err != nil {
		t.Fatal(err)
	}
	got := busB.next(t, 500*time.Millisecond)
	sameEvent(t, got.e, sent)
	// PostgreSQL delivers notifications in commit order: once A has B's
	// reply, it has already seen (and must have dropped) its own event.
	reply := newEvent("b", 2, 10)
	if err := b.Send(t.Context(), reply); err != nil {
		t.Fatal(err)
	}
	if got := busA.next(t, 500*time.Millisecond); got.e.ID != reply.ID {
		t.Fatalf("A delivered %s, want only B's %s", got.e.ID, reply.ID)
	}
	if len(busA.deliveries)+len(busB.deliveries) != 0 {
		t.Fatalf("extra deliveries: A %d, B %d", len(busA.deliveries), len(busB.deliveries))
	}
	if f.storedPayloads(t) != 0 {
		t.Fatal("a small event was stored")
	}
}

func TestSendFillsMissingOrigin(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a, busA := f.start(t, "a")
	_, busB := f.start(t, "b")
	e := newEvent("", 1, 10)
	if err := a.Send(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	if got := busB.next(t, time.Second); got.e.Origin != "a" {
		t.Fatalf("origin %q, want a", got.e.Origin)
	}
	if len(busA.deliveries) != 0 {
		t.Fatal("A delivered its own event")
	}
}

func TestLargePayloadCrossesThroughTheTable(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a, _ := f.start(t, "a")
	_, busB := f.start(t, "b")
	sent := newEvent("a", 1, 20_000)
	if err := a.Send(t.Context(), sent); err != nil {
		t.Fatal(err)
	}
	got := busB.next(t, 500*time.Millisecond)
	sameEvent(t, got.e, sent)
	if n := f.storedPayloads(t); n != 1 {
		t.Fatalf("%d stored payloads, want 1", n)
	}
}

func TestPayloadAtTheLimit(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a, _ := f.start(t, "a")
	_, busB := f.start(t, "b")
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC) // a fixed length on the wire
	e := newEvent("a", 1, 0)
	e.At = at
	base, _ := pgbridge.Encode(e)
	e = newEvent("a", 1, pgbridge.MaxInline-len(base)) // exactly MaxInline bytes: inline
	e.At = at
	if b, _ := pgbridge.Encode(e); len(b) != pgbridge.MaxInline {
		t.Fatalf("encoded %d bytes, want %d", len(b), pgbridge.MaxInline)
	}
	if err := a.Send(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	sameEvent(t, busB.next(t, time.Second).e, e)
	if n := f.storedPayloads(t); n != 0 {
		t.Fatalf("%d stored payloads, want 0 at the limit", n)
	}
}

func TestOrderIsPreserved(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a, _ := f.start(t, "a")
	_, busB := f.start(t, "b")
	const n = 200
	for i := range n {
		size := 10
		if i%40 == 0 {
			size = 10_000 // some go through event_payloads
		}
		if err := a.Send(t.Context(), newEvent("a", i, size)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if got, want := busB.next(t, 5*time.Second).e.ID, fmt.Sprintf("a-%06d", i); got != want {
			t.Fatalf("event %d: got %s, want %s", i, got, want)
		}
	}
}

// terminateListener kills the listening backend of instance and fails
// unless exactly one was found.
func (f *fixture) terminateListener(t *testing.T, instance string) {
	t.Helper()
	var killed int
	f.query(t, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE query ILIKE 'LISTEN%' AND application_name = $1`, []any{f.appName(instance)}, &killed)
	if killed != 1 {
		t.Fatalf("terminated %d listeners of %s, want 1", killed, instance)
	}
}

func TestReconnectResetsThenDeliversAgain(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a, _ := f.start(t, "a")
	b, busB := f.start(t, "b")
	f.terminateListener(t, "b")
	if reason := busB.nextReset(t, 5*time.Second); reason != "event stream interrupted" {
		t.Fatalf("reset reason %q", reason)
	}
	if !b.Connected() {
		t.Fatal("not connected after the reset")
	}
	sent := newEvent("a", 1, 10)
	if err := a.Send(t.Context(), sent); err != nil {
		t.Fatal(err)
	}
	sameEvent(t, busB.next(t, 500*time.Millisecond).e, sent)
}

func TestOutageIsLoggedOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	logs := &logRecorder{}
	cfg := f.config("b")
	cfg.Log = slog.New(logs)
	var failing atomic.Int32
	bus := newFakeBus("b")
	b := pgbridge.New(cfg, bus)
	pgbridge.SetBeforeDial(b, func() error {
		if failing.Add(-1) >= 0 {
			return gathering.Errorf(gathering.EUNAVAILABLE, "refused by the test")
		}
		return nil
	})
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer b.Stop(context.Background())
	failing.Store(4)
	f.terminateListener(t, "b")
	bus.nextReset(t, 5*time.Second)
	if warn, info, debug := logs.count(slog.LevelWarn), logs.count(slog.LevelInfo), logs.count(slog.LevelDebug); warn != 1 || info != 1 || debug != 4 {
		t.Fatalf("logged %d warnings, %d infos, %d failed attempts; want 1, 1, 4", warn, info, debug)
	}
	if len(bus.resets) != 0 {
		t.Fatal("more than one reset")
	}
}

func TestPurgeDeletesOldPayloads(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a, _ := f.start(t, "a")
	f.query(t, `INSERT INTO event_payloads (id, body, created_at) VALUES ('old', '{}', now() - interval '2 hours'),
		('new', '{}', now()) RETURNING 1`, nil, new(int))
	n, err := pgbridge.Purge(t.Context(), a, time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("Purge: %d, %v; want 1 row", n, err)
	}
	var left string
	f.query(t, `SELECT string_agg(id, ',') FROM event_payloads`, nil, &left)
	if left != "new" {
		t.Fatalf("left %q, want new", left)
	}
}

func TestPurgeRunsPeriodically(t *testing.T) {
	t.Parallel()
	f := setup(t)
	cfg := f.config("a")
	cfg.PayloadTTL = time.Second // purges every 500 ms
	startBridge(t, cfg, newFakeBus("a"))
	f.query(t, `INSERT INTO event_payloads (id, body, created_at) VALUES ('old', '{}', now() - interval '1 minute')
		RETURNING 1`, nil, new(int))
	deadline := time.Now().Add(5 * time.Second)
	for f.storedPayloads(t) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("old payload still there after 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for name, mutate := range map[string]func(*pgbridge.Config){
		"no URL":             func(c *pgbridge.Config) { c.URL = "" },
		"upper case":         func(c *pgbridge.Config) { c.Channel = "Events" },
		"injection":          func(c *pgbridge.Config) { c.Channel = `x"; DROP TABLE users; --` },
		"too long":           func(c *pgbridge.Config) { c.Channel = strings.Repeat("a", 64) },
		"leading digit":      func(c *pgbridge.Config) { c.Channel = "1events" },
		"max under min":      func(c *pgbridge.Config) { c.MinBackoff, c.MaxBackoff = time.Second, time.Millisecond },
		"ttl too short":      func(c *pgbridge.Config) { c.PayloadTTL = time.Millisecond },
		"not a postgres URL": func(c *pgbridge.Config) { c.URL = "postgres://%zz" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := f.config("a")
			mutate(&cfg)
			err := pgbridge.New(cfg, newFakeBus("a")).Start(t.Context())
			if gathering.ErrorCode(err) != gathering.EINVALID {
				t.Fatalf("Start: %v, want %s", err, gathering.EINVALID)
			}
		})
	}
}

func TestStartFailsWhenPostgreSQLDoesNotAnswer(t *testing.T) {
	t.Parallel()
	b := pgbridge.New(pgbridge.Config{URL: "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2"}, newFakeBus("a"))
	if err := b.Start(t.Context()); gathering.ErrorCode(err) != gathering.EUNAVAILABLE {
		t.Fatalf("Start: %v, want %s", err, gathering.EUNAVAILABLE)
	}
	if err := b.Send(t.Context(), newEvent("a", 1, 1)); gathering.ErrorCode(err) != gathering.EUNAVAILABLE {
		t.Fatalf("Send: %v, want %s", err, gathering.EUNAVAILABLE)
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	f := setup(t)
	b := pgbridge.New(f.config("a"), newFakeBus("a"))
	ctx := t.Context()
	if err := b.Stop(ctx); err != nil {
		t.Fatalf("Stop before Start: %v", err)
	}
	for round := range 2 { // a stopped bridge can start again
		if err := b.Start(ctx); err != nil {
			t.Fatalf("round %d: Start: %v", round, err)
		}
		if err := b.Start(ctx); err == nil {
			t.Fatal("second Start succeeded")
		}
		if !b.Connected() {
			t.Fatal("not connected after Start")
		}
		if err := b.Stop(ctx); err != nil {
			t.Fatalf("round %d: Stop: %v", round, err)
		}
		if b.Connected() {
			t.Fatal("connected after Stop")
		}
		if err := b.Send(ctx, newEvent("a", 1, 1)); gathering.ErrorCode(err) != gathering.EUNAVAILABLE {
			t.Fatalf("Send after Stop: %v, want %s", err, gathering.EUNAVAILABLE)
		}
	}
}

func TestSendRejectsInvalidData(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a, _ := f.start(t, "a")
	e := newEvent("a", 1, 1)
	e.Data = json.RawMessage(`{not json`)
	if err := a.Send(t.Context(), e); gathering.ErrorCode(err) != gathering.EINVALID {
		t.Fatalf("Send: %v, want %s", err, gathering.EINVALID)
	}
}
