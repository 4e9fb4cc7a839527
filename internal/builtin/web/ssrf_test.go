package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// TestSSRFCorpus refuses every internal destination with an empty
// allow-list, through both tools, from the guard itself (EFORBIDDEN, not a
// dial timeout), and the loopback servers are never reached.
func TestSSRFCorpus(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, nil)
	redirector := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, tg.URL+"/", http.StatusFound)
	})
	p := tg.port
	corpus := []string{
		"http://127.0.0.1:" + p + "/",
		"http://localhost:" + p + "/",
		"http://[::1]:" + p + "/",
		"http://0.0.0.0:" + p + "/",
		"http://10.0.0.1/",
		"http://172.16.0.1/",
		"http://192.168.1.1/",
		"http://169.254.169.254/latest/meta-data/",
		"http://2130706433/",
		"http://0x7f.1/",
		"http://100.64.0.1/",
		"http://[::ffff:127.0.0.1]/",
		"http://[::ffff:127.0.0.1]:" + p + "/",
		"https://[fd00:ec2::254]/",
		"http://[fe80::1%25eth0]/",
		redirector.URL + "/",
	}
	reg := setup(t, "", Options{Timeout: 2 * time.Second})
	for _, u := range corpus {
		t.Run(u, func(t *testing.T) {
			t.Parallel()
			_, err := call(t, reg, "http.request", map[string]any{"method": "GET", "url": u, "timeout_seconds": 2})
			wantForbidden(t, err)
			_, err = call(t, reg, "notify.webhook", map[string]any{"url": u})
			wantForbidden(t, err)
		})
	}
	t.Cleanup(func() {
		if n := tg.hits.Load() + redirector.hits.Load(); n != 0 {
			t.Errorf("loopback servers reached %d times", n)
		}
	})
}

// wantForbidden checks the guard's refusal and its message.
func wantForbidden(t *testing.T, err error) {
	t.Helper()
	wantCode(t, err, gathering.EFORBIDDEN)
	msg := gathering.ErrorMessage(err)
	if !strings.Contains(msg, "is not allowed") || !strings.Contains(msg, "GATHERING_OUTBOUND_ALLOWLIST") {
		t.Errorf("message %q", msg)
	}
}

// TestRedirectToBlocked follows a redirect from an allowed server (only the
// name "localhost" is allow-listed) to addresses that are not allowed.
func TestRedirectToBlocked(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, nil)
	reg := setup(t, "localhost", Options{Timeout: 2 * time.Second})
	for _, loc := range []string{"http://127.0.0.1:" + tg.port + "/", "http://127.0.0.2:" + tg.port + "/",
		"http://[::1]:" + tg.port + "/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/"} {
		t.Run(loc, func(t *testing.T) {
			t.Parallel()
			from := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, loc, http.StatusFound)
			})
			_, err := call(t, reg, "http.request", get("http://localhost:"+from.port+"/"))
			wantForbidden(t, err)
			if n := from.hits.Load(); n != 1 {
				t.Errorf("allowed first hop reached %d times, want 1", n)
			}
		})
	}
	t.Cleanup(func() {
		if n := tg.hits.Load(); n != 0 {
			t.Errorf("redirect target reached %d times", n)
		}
	})
}

// TestAllowListedHostName reaches a loopback server under an allow-listed
// name, and not under its address.
func TestAllowListedHostName(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, nil)
	reg := setup(t, "localhost", Options{})
	out := mustCall(t, reg, "http.request", get("http://localhost:"+tg.port+"/"))
	if out["body"] != "ok" {
		t.Errorf("output %v", out)
	}
	_, err := call(t, reg, "http.request", get(tg.URL))
	wantForbidden(t, err)
}
