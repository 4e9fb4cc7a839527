package pgbridge_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/event/pgbridge"
	"github.com/gathering/gathering/internal/store/pgstore"
	"github.com/gathering/gathering/internal/store/pgtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// delivery is one event a fakeBus received, and when.
type delivery struct {
	e  event.Event
	at time.Time
}

// fakeBus records what a bridge hands it.
type fakeBus struct {
	id         string
	deliveries chan delivery
	resets     chan string
}

// newFakeBus returns a bus for instance id with room for 10,000 events.
func newFakeBus(id string) *fakeBus {
	return &fakeBus{id: id, deliveries: make(chan delivery, 10_000), resets: make(chan string, 100)}
}

func (b *fakeBus) Deliver(e event.Event) { b.deliveries <- delivery{e: e, at: time.Now()} }
func (b *fakeBus) Reset(reason string)   { b.resets <- reason }
func (b *fakeBus) Instance() string      { return b.id }

// next waits up to d for the next delivered event.
func (b *fakeBus) next(t *testing.T, d time.Duration) delivery {
	t.Helper()
	select {
	case got := <-b.deliveries:
		return got
	case <-time.After(d):
		t.Fatalf("bus %s: no event within %v", b.id, d)
		return delivery{}
	}
}

// nextReset waits up to d for a Reset.
func (b *fakeBus) nextReset(t *testing.T, d time.Duration) string {
	t.Helper()
	select {
	case reason := <-b.resets:
		return reason
	case <-time.After(d):
		t.Fatalf("bus %s: no reset within %v", b.id, d)
		return ""
	}
}

// fixture is one migrated schema and a channel of its own: notification
// channels are database-wide, so parallel tests must not share one.
type fixture struct {
	url     string
	channel string
}

// setup creates a fresh schema, migrates it, and picks a unique channel.
func setup(t *testing.T) *fixture {
	t.Helper()
	u := pgtest.URL(t)
	st, err := pgstore.Open(t.Context(), pgstore.Config{URL: u, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return &fixture{url: u, channel: "t_" + randomHex()}
}

// appName is the application_name of instance's connections, unique to the
// test.
func (f *fixture) appName(instance string) string { return f.channel + "_" + instance }

// config returns a bridge configuration for instance with fast backoff.
func (f *fixture) config(instance string) pgbridge.Config {
	u, _ := url.Parse(f.url)
	q := u.Query()
	q.Set("application_name", f.appName(instance))
	u.RawQuery = q.Encode()
	return pgbridge.Config{URL: u.String(), Channel: f.channel, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
}

// start starts a bridge with a fake bus for instance and stops it when the
// test ends.
func (f *fixture) start(t *testing.T, instance string) (*pgbridge.Bridge, *fakeBus) {
	t.Helper()
	bus := newFakeBus(instance)
	return startBridge(t, f.config(instance), bus), bus
}

// startBridge starts a bridge and stops it when the test ends.
func startBridge(t *testing.T, cfg pgbridge.Config, bus pgbridge.Bus) *pgbridge.Bridge {
	t.Helper()
	b := pgbridge.New(cfg, bus)
	if err := b.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return b
}

// query runs one statement on a connection of its own and scans one row.
func (f *fixture) query(t *testing.T, sql string, args []any, dest ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), f.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(t.Context(), sql, args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// storedPayloads counts the rows of event_payloads.
func (f *fixture) storedPayloads(t *testing.T) int {
	var n int
	f.query(t, `SELECT count(*) FROM event_payloads`, nil, &n)
	return n
}

// randomHex returns 64 random bits in lower-case hex.
func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// logRecorder is a slog.Handler that keeps every record, at every level.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r)
	return nil
}

// count returns how many records were logged at level.
func (h *logRecorder) count(level slog.Level) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.records {
		if r.Level == level {
			n++
		}
	}
	return n
}
