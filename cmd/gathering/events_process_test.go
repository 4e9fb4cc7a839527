package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/store/pgtest"
)

// wsMessage reads the next message of type want (skipping others),
// failing after timeout.
func wsMessage(t *testing.T, conn *websocket.Conn, want string, timeout time.Duration) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", want, err)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		if m["type"] == want {
			return m
		}
	}
}

// TestProcessEventsCrossInstances: an event published on instance A reaches
// a WebSocket client of instance B through PostgreSQL within 500 ms; when
// B's listening connection is killed, its clients get reset, then live
// events again.
func TestProcessEventsCrossInstances(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	hash, _ := bcrypt.GenerateFromPassword([]byte("boss-password"), 10)
	vars := []string{"DATABASE_URL=" + dbURL, "SECRET_KEY=" + strings.Repeat("e", 40), "ADMIN_EMAIL=boss@example.com", "ADMIN_PASSWORD_HASH=" + string(hash)}
	a := serveProcess(t, t.TempDir(), vars...)
	b := serveProcess(t, t.TempDir(), vars...)
	token := accessToken(t, b.url, "boss@example.com", "boss-password")
	conn, _, err := websocket.Dial(t.Context(), "ws"+strings.TrimPrefix(b.url, "http")+"/ws?topics=*", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	wsMessage(t, conn, "connected", 15*time.Second)

	register := func(email string) {
		t.Helper()
		if code, body := request(t, "POST", a.url+"/auth/register", "", `{"email":"`+email+`","password":"password-1","name":"X"}`); code != 201 {
			t.Fatalf("register on A: %d %s", code, body)
		}
	}
	start := time.Now()
	register("first@example.com")
	wsMessage(t, conn, "user.registered", 15*time.Second)
	if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
		t.Errorf("A to B took %s", elapsed)
	}
	t.Logf("event from A to a WebSocket client of B: %s", time.Since(start))

	killListeners(t, dbURL)
	wsMessage(t, conn, "reset", 15*time.Second)
	register("second@example.com")
	wsMessage(t, conn, "user.registered", 15*time.Second)

	// A's shutdown is announced to B's clients.
	a.cmd.Process.Signal(syscall.SIGTERM)
	wsMessage(t, conn, "system.stopping", 15*time.Second)
}

// killListeners ends every LISTEN connection to the test database.
func killListeners(t *testing.T, dbURL string) {
	t.Helper()
	u, _ := url.Parse(dbURL)
	conn, err := pgx.Connect(t.Context(), cmpEnv("GATHERING_TEST_DATABASE_URL", pgtest.DefaultURL))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var killed int
	err = conn.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND query ILIKE 'LISTEN%'`,
		strings.TrimPrefix(u.Path, "/")).Scan(&killed)
	if err != nil || killed == 0 {
		t.Fatalf("killed %d listeners: %v", killed, err)
	}
}

// TestLargeEventCrossesInstances: two server instances (the real app, run
// in-process so the test can reach a bus) on one PostgreSQL; a 20 KB event
// published on A reaches a WebSocket client of B intact.
func TestLargeEventCrossesInstances(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "SECRET_KEY": strings.Repeat("l", 40), "GATHERING_AUTH_DISABLED": "true"}
	var busA *event.Bus
	startServeWith(t, vars, func(b *event.Bus) { busA = b })
	b := startServe(t, vars)
	conn, _, err := websocket.Dial(t.Context(), "ws"+strings.TrimPrefix(b.url, "http")+"/ws?topics=big", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	wsMessage(t, conn, "connected", 15*time.Second)
	payload := `{"blob":"` + strings.Repeat("0123456789", 2048) + `"}`
	if _, err := busA.Publish(t.Context(), event.Event{Type: "test.large", Topics: []string{"big"}, Data: json.RawMessage(payload)}); err != nil {
		t.Fatal(err)
	}
	m := wsMessage(t, conn, "test.large", 15*time.Second)
	if got, _ := json.Marshal(m["data"]); string(got) != payload {
		t.Fatalf("the 20 KB payload arrived changed (%d bytes)", len(got))
	}
}
