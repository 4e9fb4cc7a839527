// Package web provides the built-in skills that reach the network: the
// http.request tool, which makes one HTTP request, and the notify.webhook
// tool, which delivers a signed JSON notification. [Tools] returns both; they
// require the "net" permission.
//
// Every request goes through one client built by netguard.NewClient, so each
// connection, including every redirect hop and every address a host name
// resolves to, is checked at dial time: loopback, private, link-local (cloud
// metadata), CGNAT and other internal addresses are refused unless the
// operator allow-listed them with GATHERING_OUTBOUND_ALLOWLIST.
//
// # http.request
//
// The input is {method, url, headers?, body?, timeout_seconds?}. The body,
// when present and not null, is sent as JSON with Content-Type
// application/json unless the caller sets a Content-Type; a string body with
// a Content-Type that is not JSON (text/plain, application/xml, …) is sent as
// the string's text. The client manages Host, Content-Length,
// Transfer-Encoding, Connection and the other hop-by-hop headers, so they are
// refused; every other header, Idempotency-Key included, is passed through as
// given. User-Agent defaults to "GatheRing". At most Options.MaxRedirects
// redirects are followed.
//
// The output is {status, headers, body, body_encoding, truncated,
// duration_ms}. headers holds the first value of each response header under
// its lower-case name. body_encoding says how body is given: "json" (the
// parsed value, for a complete JSON response), "text" (a string) or "base64"
// (a response that is not valid UTF-8). A response body longer than
// Options.MaxResponse is not an error: its first MaxResponse bytes are
// returned, as text or base64 (never parsed as JSON), with truncated true.
// A non-2xx status is an ordinary result, not an error.
//
// # notify.webhook
//
// The input is {url, payload?, secret?, event?}. The tool POSTs the payload
// (default {}) as compact JSON with these headers:
//
//	Content-Type: application/json
//	User-Agent: GatheRing
//	X-Gathering-Timestamp: <unix seconds>
//	X-Gathering-Event: <event>                (when event is set)
//	X-Gathering-Signature: sha256=<hex>       (when secret is set)
//
// The signature is the lower-case hex HMAC-SHA256, keyed with the secret, of
// the timestamp header's value, a dot and the exact request body bytes:
//
//	HMAC-SHA256(secret, "<X-Gathering-Timestamp>.<body>")
//
// A receiver verifies it by recomputing that value over the raw body it
// received, comparing in constant time, and rejecting timestamps too far from
// its own clock (five minutes is usual) to stop replays. The event header is
// not signed.
//
// Redirects are not followed: any status outside 2xx, 3xx included, is a
// failed delivery (EUNAVAILABLE naming the status, with a short excerpt of
// the response). A delivery answers {status, delivered: true, duration_ms}.
// The secret never appears in outputs or error messages.
//
// # Errors
//
// A refused destination is EFORBIDDEN, naming the host and the reason; too
// many redirects is EINVALID; running out of time is ETIMEOUT; any other
// network failure is EUNAVAILABLE. Invalid input is EINVALID with JSON
// pointers into the input (/url, /headers/Host, …).
package web
