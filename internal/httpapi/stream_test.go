package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/gathering"
)

// streamRoutes are a WebSocket and an SSE route for the tests.
var streamRoutes = []Route{
	{Method: "GET", Pattern: "/test/ws", Access: Member, Tag: "test", Summary: "who am I, over a WebSocket",
		WebSocket: func(conn *websocket.Conn, p auth.Principal, r *http.Request) {
			conn.Write(r.Context(), websocket.MessageText, []byte(p.Email))
			conn.Close(websocket.StatusNormalClosure, "")
		}},
	{Method: "GET", Pattern: "/test/sse", Access: Viewer, Tag: "test", Summary: "one event",
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write([]byte("data: hello\n\n"))
		})},
}

func TestWebSocketAuthentication(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{}, streamRoutes...)
	keys := map[gathering.Role]string{}
	for _, c := range callers(t, s) {
		keys[c.role] = c.token
	}
	wsURL := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/test/ws"
	cases := []struct {
		name   string
		url    string
		opts   *websocket.DialOptions
		reject bool
	}{
		{"no token", wsURL, nil, true},
		{"bad token", wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer nonsense"}}}, true},
		{"viewer on a member route", wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + keys[gathering.RoleViewer]}}}, true},
		{"header", wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + keys[gathering.RoleMember]}}}, false},
		{"query", wsURL + "?token=" + keys[gathering.RoleMember], nil, false},
		{"subprotocol", wsURL, &websocket.DialOptions{Subprotocols: []string{"bearer", keys[gathering.RoleAdmin]}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
			defer cancel()
			conn, _, err := websocket.Dial(ctx, tc.url, tc.opts)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.CloseNow()
			_, msg, err := conn.Read(ctx)
			if tc.reject {
				if status := websocket.CloseStatus(err); status != websocket.StatusPolicyViolation {
					t.Fatalf("first frame: %q, %v; want close 1008 before any data", msg, err)
				}
				return
			}
			if err != nil || !strings.HasSuffix(string(msg), "@example.com") {
				t.Fatalf("message %q, %v", msg, err)
			}
			if tc.name == "subprotocol" && conn.Subprotocol() != "bearer" {
				t.Errorf("negotiated subprotocol %q", conn.Subprotocol())
			}
		})
	}
}

func TestServerSentEventsNeedAuthenticationFirst(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{}, streamRoutes...)
	resp, body := get(t, s.srv.URL+"/test/sse")
	if resp.StatusCode != 401 || strings.Contains(resp.Header.Get("Content-Type"), "event-stream") || strings.Contains(body, "hello") {
		t.Fatalf("SSE without a token: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	key := callers(t, s)[1].token
	resp, body = get(t, s.srv.URL+"/test/sse", "Authorization", "Bearer "+key)
	if resp.StatusCode != 200 || !strings.Contains(body, "data: hello") {
		t.Fatalf("SSE with a token: %d %q", resp.StatusCode, body)
	}
}

func TestWebSocketRefusesExpiredAndRevokedTokens(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{}, streamRoutes...)
	if _, err := s.api.auth.Register(t.Context(), auth.RegisterParams{Email: "ws@example.com", Password: "ws-password", Name: "WS", Role: gathering.RoleMember}, auth.RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	// A token issued two days ago with the same secret has expired.
	past, err := auth.NewService(auth.Config{Secret: []byte(strings.Repeat("s", 32)), BcryptCost: 10, Now: func() time.Time { return time.Now().Add(-48 * time.Hour) }}, s.store, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := past.Login(t.Context(), "ws@example.com", "ws-password", auth.RequestMeta{})
	if err != nil {
		t.Fatal(err)
	}
	revoked := login(t, s.srv.URL, "ws@example.com", "ws-password").AccessToken
	if code, body := api(t, "POST", s.srv.URL+"/auth/logout", revoked, ""); code != 204 {
		t.Fatalf("logout: %d %s", code, body)
	}
	wsURL := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/test/ws"
	for name, token := range map[string]string{"expired": old.AccessToken, "revoked": revoked} {
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		conn, _, err := websocket.Dial(ctx, wsURL+"?token="+token, nil)
		if err != nil {
			t.Fatalf("%s: dial: %v", name, err)
		}
		_, msg, err := conn.Read(ctx)
		if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Errorf("%s token: first frame %q, %v; want close 1008", name, msg, err)
		}
		conn.CloseNow()
		cancel()
	}
}
