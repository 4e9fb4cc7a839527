package netguard

import "net/netip"

// blockedRange is an address range refused by default, with the reason
// reported in errors.
type blockedRange struct {
	prefix netip.Prefix
	reason string
}

// blockedRanges lists the refused ranges. IPv4-mapped IPv6 addresses are
// unmapped before matching; 6to4, NAT64 and Teredo addresses are checked
// through the IPv4 address they embed (see embeddedV4).
var blockedRanges = []blockedRange{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified (this-network)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "CGNAT (shared)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (cloud metadata)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment (cloud metadata)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (broadcast)"},
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("::/96"), "IPv4-compatible (deprecated)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	{netip.MustParsePrefix("fc00::/7"), "private (unique local)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
	teredo    = netip.MustParsePrefix("2001::/32")
)

// Blocked reports whether connections to ip are refused unless allow-listed.
//
// Refused: loopback (127.0.0.0/8, ::1), private (10.0.0.0/8, 172.16.0.0/12,
// 192.168.0.0/16, fc00::/7), link-local (169.254.0.0/16 including the cloud
// metadata address 169.254.169.254, fe80::/10), 192.0.0.0/24 (including the
// 192.0.0.192 metadata address), CGNAT (100.64.0.0/10), multicast
// (224.0.0.0/4, ff00::/8), unspecified (0.0.0.0/8, ::), reserved and
// broadcast (240.0.0.0/4, including 255.255.255.255), IPv4-compatible
// (::/96), local-use NAT64 (64:ff9b:1::/48), discard-only (100::/64) and
// site-local (fec0::/10) addresses; IPv4-mapped IPv6 (::ffff:a.b.c.d), NAT64
// (64:ff9b::/96), 6to4 (2002::/16) and Teredo (2001::/32) addresses whose
// embedded IPv4 address is refused; and the invalid zero Addr. Zones are
// ignored.
func Blocked(ip netip.Addr) bool {
	return blockReason(ip) != ""
}

// blockReason returns why ip is refused, or "" when it is not.
func blockReason(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid"
	}
	ip = ip.Unmap().WithZone("")
	for _, r := range blockedRanges {
		if r.prefix.Contains(ip) {
			return r.reason
		}
	}
	if v4, via, ok := embeddedV4(ip); ok {
		if why := blockReason(v4); why != "" {
			return why + " via " + via
		}
	}
	return ""
}

// embeddedV4 extracts the IPv4 address embedded in a NAT64, 6to4 or Teredo
// IPv6 address, naming the mechanism.
func embeddedV4(ip netip.Addr) (netip.Addr, string, bool) {
	b := ip.As16()
	switch {
	case nat64.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), "NAT64", true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), "6to4", true
	case teredo.Contains(ip):
		v4 := [4]byte(b[12:16])
		for i := range v4 {
			v4[i] ^= 0xff
		}
		return netip.AddrFrom4(v4), "Teredo", true
	}
	return netip.Addr{}, "", false
}
