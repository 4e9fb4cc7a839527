package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/ratelimit"
)

// Access is who may call a route. Every route declares one in the route
// table; New refuses a table with an undeclared route.
type Access int

// The access levels.
const (
	accessUndeclared Access = iota
	Public                  // anyone, no token needed
	Viewer                  // any authenticated user: reads
	Member                  // members and admins: writes to domain resources
	Admin                   // admins: users, others' keys, settings, audit
	Scraper                 // admins, or the configured metrics token
)

// String names the level, for logs and errors.
func (a Access) String() string {
	return [...]string{"undeclared", "public", "viewer", "member", "admin", "scraper"}[a]
}

// Tier is a route's rate-limit tier.
type Tier int

// The rate tiers. A route without one gets TierRead for GET and HEAD and
// TierWrite for the other methods.
const (
	tierFromMethod Tier = iota
	TierAuth
	TierWrite
	TierRead
	TierHealth
)

// String names the tier, as in the GATHERING_RATE_LIMIT_* variables.
func (t Tier) String() string {
	return [...]string{"method", "auth", "write", "read", "health"}[t]
}

// tierOf is the route's tier.
func tierOf(rt Route) Tier {
	switch {
	case rt.Tier != tierFromMethod:
		return rt.Tier
	case rt.Method == http.MethodGet || rt.Method == http.MethodHead:
		return TierRead
	default:
		return TierWrite
	}
}

type principalKey struct{}

// principal returns the authenticated caller of a request, if any.
func principal(ctx context.Context) (auth.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(auth.Principal)
	return p, ok
}

type clientIPKey struct{}

// clientIP returns the address of the client a request came from.
func clientIP(r *http.Request) netip.Addr {
	ip, _ := r.Context().Value(clientIPKey{}).(netip.Addr)
	return ip
}

// resolveClient records the client's address: the socket's, or, when the
// socket is a trusted proxy, the last address in X-Forwarded-For that is not
// itself a trusted proxy. A trusted proxy that terminated TLS
// (X-Forwarded-Proto: https) also turns HSTS on.
func (a *API) resolveClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := socketIP(r.RemoteAddr)
		if a.trustedProxy(ip) {
			ip = a.forwardedFor(r, ip)
			if r.Header.Get("X-Forwarded-Proto") == "https" {
				w.Header().Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey{}, ip)))
	})
}

func socketIP(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}

func (a *API) trustedProxy(ip netip.Addr) bool {
	for _, p := range a.opts.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forwardedFor walks X-Forwarded-For from the right, skipping trusted
// proxies; the first other address is the client.
func (a *API) forwardedFor(r *http.Request, socket netip.Addr) netip.Addr {
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return socket
		}
		if ip = ip.Unmap(); !a.trustedProxy(ip) {
			return ip
		}
	}
	return socket
}

// meta describes a request for the audit trail.
func meta(r *http.Request) auth.RequestMeta {
	return auth.RequestMeta{IP: clientIP(r), UserAgent: r.UserAgent(), RequestID: gathering.RequestID(r.Context())}
}

// guard authenticates the caller when a credential is present, enforces
// the route's access level, then its rate tier.
func (a *API) guard(rt Route) func(http.Handler) http.Handler {
	tier := tierOf(rt)
	return func(next http.Handler) http.Handler {
		return HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			r, err := a.authenticate(r, rt.Access)
			if err != nil {
				// Limited by address first, so a flood of bad tokens meets
				// 429 before it costs anything more.
				if lerr := a.limit(w, r, tier); lerr != nil {
					return lerr
				}
				return a.rejected(r, err)
			}
			if err := a.authorize(r, rt.Access); err != nil {
				return err
			}
			if err := a.limit(w, r, tier); err != nil {
				return err
			}
			next.ServeHTTP(w, r)
			return nil
		})
	}
}

// limitOnly applies a route's rate tier to the client address; WebSocket
// routes authenticate after the upgrade.
func (a *API) limitOnly(rt Route) func(http.Handler) http.Handler {
	tier := tierOf(rt)
	return func(next http.Handler) http.Handler {
		return HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			if err := a.limit(w, r, tier); err != nil {
				return err
			}
			next.ServeHTTP(w, r)
			return nil
		})
	}
}

// authenticate attaches the principal of the request's bearer token. A
// public route ignores a bad token; any other route answers 401.
func (a *API) authenticate(r *http.Request, access Access) (*http.Request, error) {
	token, _, err := auth.BearerFromRequest(r)
	if access == Public || (access == Scraper && a.scrapeToken(token)) {
		return r, nil
	}
	if errors.Is(err, auth.ErrNoCredentials) {
		if a.opts.AuthDisabled {
			return r.WithContext(context.WithValue(r.Context(), principalKey{}, unauthenticatedAdmin)), nil
		}
		err = gathering.Errorf(gathering.EUNAUTHORIZED, "Authentication required: send Authorization: Bearer <token>.")
	}
	var p auth.Principal
	if err == nil {
		p, err = a.auth.Authenticate(r.Context(), token)
	}
	if err != nil {
		return r, err
	}
	setUser(r, p.UserID)
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), nil
}

// rejected audits a failed authentication and returns its error.
func (a *API) rejected(r *http.Request, err error) error {
	if gathering.ErrorCode(err) == gathering.EUNAUTHORIZED {
		a.audit(r, gathering.AuditAuthRejected, map[string]any{"reason": gathering.ErrorMessage(err)})
	}
	return err
}

// auditRate bounds how many auth_rejected, access_denied and rate_limited
// events one client (or user) adds to the audit trail: a flood is recorded,
// but cannot turn every request into a database write.
var auditRate = ratelimit.Rate{Count: 10, Per: time.Minute}

// audit records an event of the HTTP layer about the request's caller,
// within auditRate per event and caller.
func (a *API) audit(r *http.Request, event string, details map[string]any) {
	caller := "ip:" + clientIP(r).String()
	if id := principalID(r); id != 0 {
		caller = "user:" + strconv.FormatInt(id, 10)
	}
	if d, _ := a.auditGate.Allow(r.Context(), event+":"+caller, auditRate); !d.Allowed {
		return
	}
	a.auth.Audit(r.Context(), event, meta(r), principalID(r), r.Method+" "+r.URL.Path, details)
}

// unauthenticatedAdmin is who a request without credentials is when
// authentication is disabled (development only).
var unauthenticatedAdmin = auth.Principal{Email: "anonymous@localhost", Role: gathering.RoleAdmin}

// scrapeToken reports whether token is the configured metrics token.
func (a *API) scrapeToken(token string) bool {
	return a.opts.MetricsToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(a.opts.MetricsToken)) == 1
}

// minimumRole is the least role that passes each access level.
var minimumRole = map[Access]gathering.Role{
	Viewer:  gathering.RoleViewer,
	Member:  gathering.RoleMember,
	Admin:   gathering.RoleAdmin,
	Scraper: gathering.RoleAdmin,
}

func (a *API) authorize(r *http.Request, access Access) error {
	p, ok := principal(r.Context())
	if !ok || p.Role.AtLeast(minimumRole[access]) {
		return nil // public (or scraped with the token)
	}
	a.audit(r, gathering.AuditAccessDenied, map[string]any{"role": p.Role, "required": minimumRole[access]})
	return gathering.Errorf(gathering.EFORBIDDEN, "This needs the %s role; yours is %s.", minimumRole[access], p.Role)
}

// limit applies the tier's rate to the caller (the user when
// authenticated, else the client address) and sets the RateLimit headers.
func (a *API) limit(w http.ResponseWriter, r *http.Request, tier Tier) error {
	key := "ip:" + clientIP(r).String()
	if p, ok := principal(r.Context()); ok {
		key = "user:" + strconv.FormatInt(p.UserID, 10)
	}
	d, err := a.limiter.Allow(r.Context(), tier.String()+":"+key, a.opts.Rates[tier])
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(d.ResetAfter)))
	if d.Allowed {
		return nil
	}
	a.audit(r, gathering.AuditRateLimited, map[string]any{"tier": tier.String()})
	return &gathering.Error{Code: gathering.ERATELIMITED, RetryAfter: d.RetryAfter,
		Message: fmt.Sprintf("Too many %s requests; retry in %d s.", tier, ceilSeconds(d.RetryAfter))}
}

func principalID(r *http.Request) int64 {
	p, _ := principal(r.Context())
	return p.UserID
}

func ceilSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
