package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// secret is the webhook secret of the tests.
const secret = "s3cret-webhook-key-0123456789"

// delivery is what a receiver saw of one webhook.
type delivery struct {
	header http.Header
	body   []byte
	err    string // why verification failed, "" when it passed
}

// receiver is a webhook receiver verifying signatures with key as the
// package documentation says a receiver should, answering status.
type receiver struct {
	*target
	mu  sync.Mutex
	got []delivery
}

// newReceiver starts a receiver answering status, verifying with key when
// it is not empty.
func newReceiver(t *testing.T, key string, status int) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.target = newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := delivery{header: r.Header.Clone(), body: body, err: verify(key, r.Header, body)}
		rc.mu.Lock()
		rc.got = append(rc.got, d)
		rc.mu.Unlock()
		w.WriteHeader(status)
	})
	return rc
}

// only returns the single delivery received.
func (rc *receiver) only(t *testing.T) delivery {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(rc.got))
	}
	return rc.got[0]
}

// verify checks a delivery the documented way: a recent timestamp and
// sha256=hex(HMAC-SHA256(key, timestamp + "." + body)).
func verify(key string, h http.Header, body []byte) string {
	ts, err := strconv.ParseInt(h.Get("X-Gathering-Timestamp"), 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return "bad timestamp"
	}
	if key == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(h.Get("X-Gathering-Timestamp") + "." + string(body)))
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(h.Get("X-Gathering-Signature")), []byte(want)) {
		return "bad signature"
	}
	return ""
}

func TestWebhookSigned(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, secret, http.StatusNoContent)
	reg := setup(t, loopback, Options{})
	out, err := call(t, reg, "notify.webhook", map[string]any{
		"url": rc.URL + "/hook", "secret": secret, "event": "task.completed",
		"payload": map[string]any{"task": "t1", "text": "<b>&</b>", "n": 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out["status"] != 204.0 || out["delivered"] != true || len(out) != 3 {
		t.Errorf("output %v", out)
	}
	d := rc.only(t)
	if d.err != "" {
		t.Fatalf("receiver: %s", d.err)
	}
	var payload map[string]any
	if err := json.Unmarshal(d.body, &payload); err != nil || payload["text"] != "<b>&</b>" {
		t.Errorf("payload %s: %v", d.body, err)
	}
	if d.header.Get("Content-Type") != "application/json" || d.header.Get("User-Agent") != "GatheRing" ||
		d.header.Get("X-Gathering-Event") != "task.completed" {
		t.Errorf("headers %v", d.header)
	}
	raw, _ := json.Marshal(out)
	if strings.Contains(string(raw), secret) {
		t.Errorf("output %s shows the secret", raw)
	}
}

func TestWebhookTamperedFails(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, "another-secret-of-16+", http.StatusOK)
	mustCall(t, setup(t, loopback, Options{}), "notify.webhook", map[string]any{"url": rc.URL, "secret": secret})
	if d := rc.only(t); d.err != "bad signature" {
		t.Errorf("receiver with the wrong key: %q, want bad signature", d.err)
	}
}

func TestWebhookUnsigned(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, "", http.StatusOK)
	out := mustCall(t, setup(t, loopback, Options{}), "notify.webhook", map[string]any{"url": rc.URL})
	d := rc.only(t)
	if string(d.body) != "{}" || d.err != "" || out["status"] != 200.0 {
		t.Errorf("body %q, receiver %q, output %v", d.body, d.err, out)
	}
	if _, ok := d.header["X-Gathering-Signature"]; ok {
		t.Errorf("unsigned delivery has a signature header: %v", d.header)
	}
	if _, ok := d.header["X-Gathering-Event"]; ok {
		t.Errorf("delivery without event has an event header: %v", d.header)
	}
}

func TestWebhookRejected(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/", http.StatusTemporaryRedirect)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		// A hostile receiver echoing the secret, cut by the excerpt limit.
		io.WriteString(w, "failed\x00 for key "+secret+" and again "+secret+strings.Repeat("x", 1000))
	})
	reg := setup(t, loopback, Options{})
	_, err := call(t, reg, "notify.webhook", map[string]any{"url": tg.URL, "secret": secret})
	wantCode(t, err, gathering.EUNAVAILABLE)
	msg := gathering.ErrorMessage(err)
	if !strings.Contains(msg, "500") || !strings.Contains(msg, `failed\x00 for key [redacted]`) || len(msg) > 300 {
		t.Errorf("message %q", msg)
	}
	wantNoSecret(t, err)
	_, err = call(t, reg, "notify.webhook", map[string]any{"url": tg.URL + "/moved", "secret": secret})
	wantCode(t, err, gathering.EUNAVAILABLE)
	if !strings.Contains(gathering.ErrorMessage(err), "307") || tg.hits.Load() != 2 {
		t.Errorf("redirect: %v after %d requests", err, tg.hits.Load())
	}
}

// wantNoSecret fails when err shows the secret anywhere.
func wantNoSecret(t *testing.T, err error) {
	t.Helper()
	text := err.Error() + gathering.ErrorMessage(err)
	for _, f := range gathering.ErrorFields(err) {
		text += f.Field + f.Message
	}
	if strings.Contains(text, secret) || strings.Contains(text, secret[:12]) {
		t.Errorf("error shows the secret: %q", text)
	}
}

func TestWebhookExcerptCut(t *testing.T) {
	t.Parallel()
	// The secret starts inside the shown part and ends past it.
	long := strings.Repeat("k", 256)
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, strings.Repeat("a", 100)+long+"tail")
	})
	_, err := call(t, setup(t, loopback, Options{}), "notify.webhook", map[string]any{"url": tg.URL, "secret": long})
	wantCode(t, err, gathering.EUNAVAILABLE)
	if strings.Contains(err.Error(), "kkkk") || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("error %q", err)
	}
}

func TestWebhookValidation(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, nil)
	reg := setup(t, loopback, Options{})
	tests := []struct {
		name   string
		in     map[string]any
		fields []string
	}{
		{"missing url", map[string]any{"payload": 1}, []string{"/url"}},
		{"scheme", map[string]any{"url": "ftp://127.0.0.1/"}, []string{"/url"}},
		{"short secret", map[string]any{"url": tg.URL, "secret": secret[:15]}, []string{"/secret"}},
		{"long secret", map[string]any{"url": tg.URL, "secret": strings.Repeat(secret, 10)}, []string{"/secret"}},
		{"bad event", map[string]any{"url": tg.URL, "event": "a\nb"}, []string{"/event"}},
		{"extra", map[string]any{"url": tg.URL, "headers": map[string]string{}}, []string{"/headers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := call(t, reg, "notify.webhook", tt.in)
			wantFields(t, err, tt.fields...)
			wantNoSecret(t, err)
		})
	}
	t.Cleanup(func() {
		if n := tg.hits.Load(); n != 0 {
			t.Errorf("invalid deliveries reached the server %d times", n)
		}
	})
}

func TestWebhookTimeout(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // the server notices the client leaving only once the body is read
		<-r.Context().Done()
	})
	_, err := call(t, setup(t, loopback, Options{Timeout: 300 * time.Millisecond}), "notify.webhook",
		map[string]any{"url": tg.URL, "secret": secret})
	wantCode(t, err, gathering.ETIMEOUT)
	wantNoSecret(t, err)
}
