package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/gathering"
)

// caller is one identity the access tests send requests as.
type caller struct {
	name  string
	role  gathering.Role // empty for anonymous
	token string
}

// callers creates a user and an API key for each role (API keys survive the
// logout route, so every route can be called with them in any order).
func callers(t testing.TB, s setup) []caller {
	t.Helper()
	out := []caller{{name: "anonymous"}}
	for _, role := range []gathering.Role{gathering.RoleViewer, gathering.RoleMember, gathering.RoleAdmin} {
		u, err := s.api.auth.Register(t.Context(), auth.RegisterParams{Email: string(role) + "@example.com", Password: "password-" + string(role), Name: string(role), Role: role}, auth.RequestMeta{})
		if err != nil {
			t.Fatal(err)
		}
		key, _, err := s.api.auth.CreateAPIKey(t.Context(), auth.Principal{UserID: u.ID, Email: u.Email, Role: role}, "matrix", "", time.Time{}, auth.RequestMeta{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, caller{name: string(role), role: role, token: key})
	}
	return out
}

// call sends one request for a route, with a path id that exists when the
// route takes one, and returns the status.
func call(t *testing.T, base string, rt Route, c caller, id int64) int {
	t.Helper()
	path := strings.ReplaceAll(rt.Pattern, "{id}", strconv.FormatInt(id, 10))
	var body io.Reader
	if rt.Method != http.MethodGet {
		body = strings.NewReader(`{}`)
	}
	req, _ := http.NewRequest(rt.Method, base+path, body)
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRoleMatrix calls every registered route as anonymous, viewer, member
// and admin, and checks the answer against the route's declaration: 401
// without credentials and 403 below the required role; anything else
// (the handler's own answer) when allowed. Public routes are left to their
// handlers, whose answer may be 401 (a failed login).
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	const scrape = "scrape-token-0123456789"
	s := newSetup(t, Options{MetricsToken: scrape, OpenRegistration: true})
	cs := callers(t, s)
	victim, err := s.api.auth.Register(t.Context(), auth.RegisterParams{Email: "victim@example.com", Password: "password-victim", Name: "victim", Role: gathering.RoleMember}, auth.RequestMeta{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range s.api.Routes() {
		if rt.Access == accessUndeclared {
			t.Errorf("%s %s has no access declaration", rt.Method, rt.Pattern)
		}
		if rt.Access == Public {
			continue // the handler's own answer may be 401 (a failed login)
		}
		for _, c := range cs {
			got := call(t, s.srv.URL, rt, c, victim.ID)
			want := expectedAccess(rt.Access, c)
			if (want == 0 && (got == 401 || got == 403)) || (want != 0 && got != want) {
				t.Errorf("%s %s as %s: %d, want %s", rt.Method, rt.Pattern, c.name, got, describeWant(want))
			}
		}
	}
	// The metrics token opens /metrics and nothing else.
	scraper := caller{name: "scraper", token: scrape}
	for _, rt := range s.api.Routes() {
		got := call(t, s.srv.URL, rt, scraper, victim.ID)
		if rt.Access == Scraper && got != 200 || rt.Access != Scraper && rt.Access != Public && got != 401 {
			t.Errorf("%s %s with the metrics token: %d", rt.Method, rt.Pattern, got)
		}
	}
}

// expectedAccess is 401 or 403 when the caller may not call the route, 0
// when it may.
func expectedAccess(access Access, c caller) int {
	switch {
	case c.role == "":
		return http.StatusUnauthorized
	case !c.role.AtLeast(minimumRole[access]):
		return http.StatusForbidden
	}
	return 0
}

func describeWant(want int) string {
	if want == 0 {
		return "neither 401 nor 403"
	}
	return strconv.Itoa(want)
}

func TestRouteWithoutDeclarationIsRefused(t *testing.T) {
	t.Parallel()
	err := checkDeclarations([]Route{{Method: "GET", Pattern: "/x", Access: Public}, {Method: "POST", Pattern: "/y"}})
	if err == nil || !strings.Contains(err.Error(), "POST /y") {
		t.Fatalf("undeclared route accepted: %v", err)
	}
}

// decodeList reads a list response.
func decodeList[T any](t *testing.T, body string) List[T] {
	t.Helper()
	var l List[T]
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatalf("list %s: %v", body, err)
	}
	return l
}
