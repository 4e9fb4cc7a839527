package web

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/tool"
)

// TestIdempotencyKeyFromContext checks that both tools send the caller's
// idempotency key as a header, and that a key in the input wins.
func TestIdempotencyKeyFromContext(t *testing.T) {
	t.Parallel()
	keys := make(chan string, 8)
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		keys <- r.Header.Get("Idempotency-Key")
		w.Write([]byte("{}"))
	})
	reg := setup(t, loopback, Options{})
	ctx, cancel := context.WithTimeout(tool.WithIdempotencyKey(context.Background(), "run-9:node-b"), 30*time.Second)
	defer cancel()
	for _, c := range []struct {
		tool string
		in   map[string]any
		want string
	}{
		{"http.request", map[string]any{"method": "POST", "url": tg.URL}, "run-9:node-b"},
		{"notify.webhook", map[string]any{"url": tg.URL}, "run-9:node-b"},
		{"http.request", map[string]any{"method": "GET", "url": tg.URL, "headers": map[string]string{"Idempotency-Key": "mine"}}, "mine"},
	} {
		raw, _ := json.Marshal(c.in)
		if _, err := reg.Call(ctx, tool.UserCaller(gathering.RoleMember), c.tool, raw); err != nil {
			t.Fatalf("%s: %v", c.tool, err)
		}
		if got := <-keys; got != c.want {
			t.Errorf("%s sent Idempotency-Key %q, want %q", c.tool, got, c.want)
		}
	}
}
