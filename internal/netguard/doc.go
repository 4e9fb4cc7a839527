// Package netguard guards outbound HTTP requests made on behalf of users and
// agents against server-side request forgery (SSRF).
//
// The guard works at dial time: the HTTP transport built by [NewTransport]
// checks the IP address every connection is actually made to, after name
// resolution, so DNS rebinding and redirects to internal addresses are covered
// as well as literal addresses in URLs. Addresses reported by [Blocked]
// (loopback, private, link-local and cloud-metadata, CGNAT, multicast,
// unspecified, broadcast and reserved ranges, plus IPv6 forms that embed such
// an IPv4 address) are refused with an error matching [ErrBlocked], unless the
// operator allow-listed them (see [ParseAllowList]; GatheRing reads the list
// from GATHERING_OUTBOUND_ALLOWLIST).
//
// Host names whose last label is numeric (for example "2130706433", "127.1"
// or "0x7f.1") are refused before any lookup: some resolvers read them as
// IPv4 addresses in legacy notation.
//
// [ReadLimited] and [LimitBody] cap the size of response bodies.
package netguard
