package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/ratelimit"
	"github.com/gathering/gathering/internal/store"
)

// api sends a JSON request with an optional bearer token and returns the
// status and the body.
func api(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func mustStatus(t *testing.T, want, got int, body, what string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: %d, want %d: %s", what, got, want, body)
	}
}

func login(t *testing.T, base, email, password string) TokenResponse {
	t.Helper()
	form := url.Values{"username": {email}, "password": {password}}
	resp, err := http.PostForm(base+"/auth/login", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	mustStatus(t, 200, resp.StatusCode, string(b), "form login")
	var tok TokenResponse
	if err := json.Unmarshal(b, &tok); err != nil || tok.TokenType != "bearer" || tok.ExpiresIn <= 0 {
		t.Fatalf("token response %s: %v", b, err)
	}
	return tok
}

// TestIdentityFlowAndAuditTrail walks the identity API end to end and
// checks that every audit event type was recorded, without a secret.
func TestIdentityFlowAndAuditTrail(t *testing.T) {
	t.Parallel()
	generous := ratelimit.Rate{Count: 1000, Per: time.Minute}
	s := newSetup(t, Options{OpenRegistration: true, Rates: map[Tier]ratelimit.Rate{
		TierAuth: generous, TierWrite: generous, TierRead: generous, TierHealth: {Count: 2, Per: time.Minute}}})
	base := s.srv.URL
	admin, err := s.api.auth.Register(t.Context(), auth.RegisterParams{Email: "root@example.com", Password: "root-password", Name: "Root", Role: gathering.RoleAdmin}, auth.RequestMeta{})
	if err != nil {
		t.Fatal(err)
	}
	adminToken := login(t, base, admin.Email, "root-password").AccessToken
	secrets := []string{"root-password", "ann-password-1", adminToken}

	code, body := api(t, "POST", base+"/auth/register", "", `{"email":" Ann@Example.com ","password":"ann-password-1","name":"Ann"}`)
	mustStatus(t, 201, code, body, "register")
	var ann UserResponse
	json.Unmarshal([]byte(body), &ann)
	if ann.Email != "ann@example.com" || ann.Role != "member" || !ann.IsActive {
		t.Fatalf("registered %+v", ann)
	}
	code, body = api(t, "POST", base+"/auth/register", "", `{"email":"ann@example.com","password":"ann-password-1","name":"Ann"}`)
	mustStatus(t, 409, code, body, "duplicate register")
	if !strings.Contains(body, "Email already registered") {
		t.Errorf("duplicate register: %s", body)
	}

	code, body = api(t, "POST", base+"/auth/login/json", "", `{"email":"ann@example.com","password":"wrong-password"}`)
	mustStatus(t, 401, code, body, "wrong password")
	code, unknownBody := api(t, "POST", base+"/auth/login/json", "", `{"email":"nobody@example.com","password":"wrong-password"}`)
	mustStatus(t, 401, code, unknownBody, "unknown email")
	if detail(body) != detail(unknownBody) || detail(body) != "Incorrect email or password" {
		t.Errorf("login failures differ: %q vs %q", detail(body), detail(unknownBody))
	}

	tok := login(t, base, "ann@example.com", "ann-password-1")
	secrets = append(secrets, tok.AccessToken, tok.RefreshToken)
	code, body = api(t, "GET", base+"/auth/me", tok.AccessToken, "")
	mustStatus(t, 200, code, body, "me")
	code, body = api(t, "POST", base+"/auth/verify", tok.AccessToken, "")
	if code != 200 || !strings.Contains(body, `"valid":true`) {
		t.Fatalf("verify: %d %s", code, body)
	}

	code, body = api(t, "POST", base+"/auth/refresh", "", `{"refresh_token":"`+tok.RefreshToken+`"}`)
	mustStatus(t, 200, code, body, "refresh")
	var rotated TokenResponse
	json.Unmarshal([]byte(body), &rotated)
	secrets = append(secrets, rotated.AccessToken, rotated.RefreshToken)
	code, body = api(t, "POST", base+"/auth/refresh", "", `{"refresh_token":"`+tok.RefreshToken+`"}`)
	mustStatus(t, 401, code, body, "refresh reuse")
	code, body = api(t, "POST", base+"/auth/refresh", "", `{"refresh_token":"`+rotated.RefreshToken+`"}`)
	mustStatus(t, 401, code, body, "refresh after reuse (family revoked)")
	code, body = api(t, "GET", base+"/auth/me", rotated.AccessToken, "")
	mustStatus(t, 401, code, body, "access token of a revoked family")
	rotated = login(t, base, "ann@example.com", "ann-password-1")
	secrets = append(secrets, rotated.AccessToken, rotated.RefreshToken)

	code, body = api(t, "POST", base+"/auth/api-keys", rotated.AccessToken, `{"name":"ci"}`)
	mustStatus(t, 201, code, body, "create api key")
	var key CreatedAPIKey
	json.Unmarshal([]byte(body), &key)
	secrets = append(secrets, key.Key)
	code, body = api(t, "GET", base+"/auth/me", key.Key, "")
	mustStatus(t, 200, code, body, "me with the api key")
	code, body = api(t, "GET", base+"/auth/api-keys", rotated.AccessToken, "")
	if code != 200 || strings.Contains(body, key.Key) || !strings.Contains(body, key.Prefix) {
		t.Fatalf("list api keys: %d %s", code, body)
	}
	code, body = api(t, "DELETE", base+"/auth/api-keys/"+strconv.FormatInt(key.ID, 10), rotated.AccessToken, "")
	mustStatus(t, 204, code, body, "revoke api key")
	code, body = api(t, "GET", base+"/auth/me", key.Key, "")
	mustStatus(t, 401, code, body, "revoked api key")

	code, body = api(t, "GET", base+"/users", rotated.AccessToken, "")
	mustStatus(t, 403, code, body, "member lists users")
	code, body = api(t, "GET", base+"/auth/me", "not-a-token", "")
	mustStatus(t, 401, code, body, "garbage token")

	annURL := base + "/users/" + strconv.FormatInt(ann.ID, 10)
	code, body = api(t, "PATCH", annURL, adminToken, `{"name":"Ann B."}`)
	mustStatus(t, 200, code, body, "rename")
	code, body = api(t, "PATCH", annURL, adminToken, `{"role":"viewer"}`)
	mustStatus(t, 200, code, body, "demote")
	code, body = api(t, "POST", base+"/auth/api-keys", rotated.AccessToken, `{"name":"x"}`)
	if code != 201 {
		t.Fatalf("viewer creating a key: %d %s", code, body)
	}
	code, body = api(t, "POST", base+"/auth/logout", rotated.AccessToken, "")
	mustStatus(t, 204, code, body, "logout")
	code, body = api(t, "GET", base+"/auth/me", rotated.AccessToken, "")
	mustStatus(t, 401, code, body, "token after logout")
	code, body = api(t, "DELETE", annURL, adminToken, "")
	mustStatus(t, 204, code, body, "deactivate")
	code, body = api(t, "POST", base+"/auth/login/json", "", `{"email":"ann@example.com","password":"ann-password-1"}`)
	mustStatus(t, 401, code, body, "login of a deactivated user")

	for range 6 { // five failures, then throttled
		code, body = api(t, "POST", base+"/auth/login/json", "", `{"email":"victim@example.com","password":"guess-guess"}`)
	}
	mustStatus(t, 429, code, body, "sixth failed login")
	for range 3 {
		code, body = api(t, "GET", base+"/health/live", "", "")
	}
	mustStatus(t, 429, code, body, "third probe at 2/min")

	code, body = api(t, "GET", base+"/audit?limit=200", adminToken, "")
	mustStatus(t, 200, code, body, "audit")
	trail := decodeList[AuditEventResponse](t, body)
	seen := map[string]bool{}
	for _, e := range trail.Items {
		seen[e.Event] = true
	}
	for _, event := range []string{gathering.AuditLoginSucceeded, gathering.AuditLoginFailed, gathering.AuditLoginThrottled,
		gathering.AuditLogout, gathering.AuditTokenRefreshed, gathering.AuditRefreshReuseDetected, gathering.AuditUserRegistered,
		gathering.AuditUserUpdated, gathering.AuditRoleChanged, gathering.AuditUserDeactivated, gathering.AuditAPIKeyCreated,
		gathering.AuditAPIKeyRevoked, gathering.AuditAuthRejected, gathering.AuditAccessDenied, gathering.AuditRateLimited} {
		if !seen[event] {
			t.Errorf("no %s in the audit trail", event)
		}
	}
	for _, secret := range secrets {
		if strings.Contains(body, secret) {
			t.Errorf("the audit trail contains a secret (%.12s…)", secret)
		}
	}
	code, body = api(t, "GET", base+"/audit?event=login_failed&limit=2", adminToken, "")
	if filtered := decodeList[AuditEventResponse](t, body); code != 200 || len(filtered.Items) != 2 || filtered.Total < 7 || filtered.Items[0].Event != "login_failed" {
		t.Fatalf("filtered audit: %d %s", code, body)
	}
	code, body = api(t, "GET", base+"/audit?since=yesterday", adminToken, "")
	mustStatus(t, 422, code, body, "bad since")
}

func detail(body string) string {
	var p Problem
	json.Unmarshal([]byte(body), &p)
	return p.Detail
}

func TestRegistrationClosed(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{OpenRegistration: false})
	code, body := api(t, "POST", s.srv.URL+"/auth/register", "", `{"email":"a@example.com","password":"password-1","name":"A"}`)
	mustStatus(t, 403, code, body, "closed registration")
}

func TestRegistrationValidation(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{OpenRegistration: true})
	code, body := api(t, "POST", s.srv.URL+"/auth/register", "", `{"email":"not-an-email","password":"short","name":""}`)
	mustStatus(t, 422, code, body, "invalid registration")
	var p Problem
	json.Unmarshal([]byte(body), &p)
	fields := map[string]bool{}
	for _, f := range p.Errors {
		fields[f.Field] = true
	}
	if !fields["email"] || !fields["password"] || !fields["name"] {
		t.Fatalf("every field error at once: %+v", p.Errors)
	}
}

func TestRateLimitHeadersAndClientAddress(t *testing.T) {
	t.Parallel()
	rate := ratelimit.Rate{Count: 3, Per: time.Minute}
	s := newSetup(t, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Rates: map[Tier]ratelimit.Rate{TierAuth: rate, TierWrite: rate, TierRead: rate, TierHealth: rate}})
	probe := func(forwardedFor string) *http.Response {
		resp, _ := get(t, s.srv.URL+"/health/live", "X-Forwarded-For", forwardedFor, "X-Forwarded-Proto", "https")
		return resp
	}
	for i := range 3 {
		resp := probe("203.0.113.7")
		if resp.StatusCode != 200 || resp.Header.Get("RateLimit-Limit") != "3" || resp.Header.Get("RateLimit-Remaining") != strconv.Itoa(2-i) || resp.Header.Get("RateLimit-Reset") == "" {
			t.Fatalf("probe %d: %d %v", i, resp.StatusCode, resp.Header)
		}
		if resp.Header.Get("Strict-Transport-Security") == "" {
			t.Fatal("no HSTS behind a trusted TLS proxy")
		}
	}
	resp := probe("203.0.113.7")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("fourth probe: %d %v", resp.StatusCode, resp.Header)
	}
	// Another client behind the same proxy has its own budget.
	if resp := probe("198.51.100.9"); resp.StatusCode != 200 {
		t.Fatalf("another client: %d", resp.StatusCode)
	}
}

func TestAuthDisabledActsAsAdministrator(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{AuthDisabled: true})
	code, body := api(t, "GET", s.srv.URL+"/users", "", "")
	mustStatus(t, 200, code, body, "users without credentials, authentication disabled")
	code, body = api(t, "GET", s.srv.URL+"/users", "garbage", "")
	mustStatus(t, 401, code, body, "a bad token is still refused")
}

func TestFloodOfBadTokensIsLimitedAndAuditedWithinBounds(t *testing.T) {
	t.Parallel()
	rate := ratelimit.Rate{Count: 20, Per: time.Minute}
	s := newSetup(t, Options{Rates: map[Tier]ratelimit.Rate{TierAuth: rate, TierWrite: rate, TierRead: rate, TierHealth: rate}})
	statuses := map[int]int{}
	for range 60 {
		code, _ := api(t, "GET", s.srv.URL+"/auth/me", "forged-token", "")
		statuses[code]++
	}
	if statuses[401] != 20 || statuses[429] != 40 {
		t.Fatalf("statuses %v: want the first 20 answered 401, then 429", statuses)
	}
	events, total, err := s.store.AuditList(t.Context(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if total > 2*auditRate.Count {
		t.Fatalf("%d audit events for one client's flood (%v); want at most %d", total, events[0].Event, 2*auditRate.Count)
	}
}
