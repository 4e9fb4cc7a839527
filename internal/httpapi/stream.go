package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/coder/websocket"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/gathering"
)

// WebSocketHandler serves one authenticated WebSocket connection. It owns
// conn and closes it before returning.
type WebSocketHandler func(conn *websocket.Conn, p auth.Principal, r *http.Request)

// webSocket is the one way a route serves a WebSocket: it accepts the
// upgrade, then authenticates and authorises the caller (token from the
// Authorization header, ?token= or "Sec-WebSocket-Protocol: bearer,
// <token>"), and closes with 1008 (policy violation) before any data frame
// when that fails. Browsers cannot read the status of a refused upgrade, so
// the refusal is a close frame they can see.
func (a *API) webSocket(access Access, serve WebSocketHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			a.notUpgraded(w, r, access)
			return
		}
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			Subprotocols:   []string{"bearer"},
			OriginPatterns: a.originHosts(),
		})
		if err != nil {
			return // Accept has answered the failed handshake
		}
		authed, err := a.authenticate(r, access)
		if err != nil {
			err = a.rejected(r, err)
		} else {
			err = a.authorize(authed, access)
		}
		if err != nil {
			conn.Close(websocket.StatusPolicyViolation, gathering.ErrorMessage(err))
			return
		}
		p, _ := principal(authed.Context())
		serve(conn, p, authed)
	})
}

// notUpgraded answers a plain HTTP request to a WebSocket route: 401 or
// 403 like any route, else 426 naming the protocol to use.
func (a *API) notUpgraded(w http.ResponseWriter, r *http.Request, access Access) {
	authed, err := a.authenticate(r, access)
	if err != nil {
		err = a.rejected(r, err)
	} else if err = a.authorize(authed, access); err == nil {
		w.Header().Set("Upgrade", "websocket")
		err = gathering.Errorf(codeUpgradeRequired, "This route speaks WebSocket: connect with Upgrade: websocket.")
	}
	writeError(w, r, err)
}

// originHosts are the hosts of CORS_ORIGINS, which may also open WebSockets
// (the page's own origin always may).
func (a *API) originHosts() []string {
	var hosts []string
	for _, o := range a.opts.CORSOrigins {
		if o == "*" {
			return []string{"*"}
		}
		if u, err := url.Parse(o); err == nil && !slices.Contains(hosts, u.Host) {
			hosts = append(hosts, u.Host)
		}
	}
	return hosts
}
