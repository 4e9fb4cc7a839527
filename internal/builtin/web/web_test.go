package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/netguard"
	"github.com/gathering/gathering/internal/tool"
)

// loopback allows the loopback test servers.
const loopback = "127.0.0.0/8"

// target is a loopback test server counting the requests it receives.
type target struct {
	*httptest.Server
	hits atomic.Int64
	port string
}

// newTarget starts a loopback server running h, or answering 200 "ok" when
// h is nil.
func newTarget(t *testing.T, h http.HandlerFunc) *target {
	t.Helper()
	tg := &target{}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.hits.Add(1)
		if h == nil {
			w.Write([]byte("ok"))
			return
		}
		h(w, r)
	}))
	t.Cleanup(tg.Close)
	u, err := url.Parse(tg.URL)
	if err != nil {
		t.Fatal(err)
	}
	tg.port = u.Port()
	return tg
}

// setup registers the web tools in a real registry, allowing allow and
// taking the other options from o.
func setup(t *testing.T, allow string, o Options) *tool.Registry {
	t.Helper()
	a, err := netguard.ParseAllowList(allow)
	if err != nil {
		t.Fatal(err)
	}
	o.AllowList = a
	reg := tool.NewRegistry()
	for _, tl := range Tools(o) {
		if err := reg.Register(tl); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

// call calls a tool as a member with input marshalled from in, decoding the
// output into a map.
func call(t *testing.T, reg *tool.Registry, name string, in any) (map[string]any, error) {
	t.Helper()
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := reg.Call(ctx, tool.UserCaller(gathering.RoleMember), name, raw)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	return m, nil
}

// mustCall is call that fails the test on an error.
func mustCall(t *testing.T, reg *tool.Registry, name string, in any) map[string]any {
	t.Helper()
	out, err := call(t, reg, name, in)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := gathering.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

// wantFields fails unless err is EINVALID naming exactly the given fields.
func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	wantCode(t, err, gathering.EINVALID)
	var got []string
	for _, f := range gathering.ErrorFields(err) {
		got = append(got, f.Field)
	}
	if !slices.Equal(got, fields) {
		t.Fatalf("fields %v (%v), want %v", got, gathering.ErrorFields(err), fields)
	}
}

// get is a GET http.request input for u.
func get(u string) map[string]any { return map[string]any{"method": "GET", "url": u} }

func TestTools(t *testing.T) {
	t.Parallel()
	tools := Tools(Options{})
	var names []string
	for _, tl := range tools {
		names = append(names, tl.Name)
		if !slices.Equal(tl.Permissions, []tool.Permission{tool.PermNet}) {
			t.Errorf("%s permissions %v, want net", tl.Name, tl.Permissions)
		}
	}
	if !slices.Equal(names, []string{"http.request", "notify.webhook"}) {
		t.Fatalf("tools %v", names)
	}
	if d := tools[0].Timeout; d <= MaxTimeoutSeconds*time.Second || d > MaxTimeoutSeconds*time.Second+10*time.Second {
		t.Errorf("http.request timeout %v, want a little over %ds", d, MaxTimeoutSeconds)
	}
	if d := tools[1].Timeout; d <= DefaultTimeout {
		t.Errorf("notify.webhook timeout %v, want over %v", d, DefaultTimeout)
	}
}

func TestViewerMayNotCall(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, nil)
	reg := setup(t, loopback, Options{})
	raw, _ := json.Marshal(get(tg.URL))
	_, err := reg.Call(context.Background(), tool.UserCaller(gathering.RoleViewer), "http.request", raw)
	wantCode(t, err, gathering.EFORBIDDEN)
	if strings.Contains(err.Error(), "GATHERING_OUTBOUND_ALLOWLIST") || tg.hits.Load() != 0 {
		t.Errorf("viewer reached the network: %v", err)
	}
}
