package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// AllowList holds the destinations exempted from [Blocked]: IP addresses,
// CIDR ranges and host names. The zero value allows nothing.
type AllowList struct {
	prefixes []netip.Prefix
	hosts    map[string]struct{}
}

// ParseAllowList parses a comma-separated list of IP addresses ("127.0.0.1",
// "::1"), CIDR ranges ("127.0.0.0/8") and host names ("svc.internal"), the
// format of GATHERING_OUTBOUND_ALLOWLIST. Blanks around entries and empty
// entries are ignored, so "" yields an empty list. Host names match exactly,
// case-insensitively and ignoring a trailing dot; wildcards, ports, URLs and
// numeric host names such as "2130706433" are rejected.
func ParseAllowList(s string) (AllowList, error) {
	var a AllowList
	for raw := range strings.SplitSeq(s, ",") {
		entry := strings.TrimSpace(raw)
		if entry == "" {
			continue
		}
		if err := a.add(entry); err != nil {
			return AllowList{}, fmt.Errorf("netguard: allow-list entry %q: %w", entry, err)
		}
	}
	return a, nil
}

// add parses one entry into the list.
func (a *AllowList) add(entry string) error {
	if strings.Contains(entry, "://") {
		return errors.New("a URL is not allowed; write the host name, IP or CIDR range only")
	}
	if strings.Contains(entry, "/") {
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			return fmt.Errorf("invalid CIDR range (want e.g. 10.0.0.0/8): %w", err)
		}
		a.prefixes = append(a.prefixes, unmapPrefix(p.Masked()))
		return nil
	}
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(entry, "["), "]")); err == nil {
		if ip.Zone() != "" {
			return errors.New("IPv6 zones are not supported")
		}
		ip = ip.Unmap()
		a.prefixes = append(a.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
		return nil
	}
	return a.addHost(entry)
}

// addHost validates and records a host name entry.
func (a *AllowList) addHost(entry string) error {
	h := normalizeHost(entry)
	if err := checkHostName(h); err != nil {
		return err
	}
	if a.hosts == nil {
		a.hosts = make(map[string]struct{})
	}
	a.hosts[h] = struct{}{}
	return nil
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix into the IPv4 prefix it covers.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// Allows reports whether a connection to ip, requested under the name host,
// is allow-listed: ip lies in a listed address or range, or host is a listed
// host name. host may be empty or an IP literal.
func (a AllowList) Allows(host string, ip netip.Addr) bool {
	if ip.IsValid() {
		ip = ip.Unmap().WithZone("")
		for _, p := range a.prefixes {
			if p.Contains(ip) {
				return true
			}
		}
	}
	_, ok := a.hosts[normalizeHost(host)]
	return ok && host != ""
}

// normalizeHost lower-cases a host name and drops a trailing dot.
func normalizeHost(h string) string {
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// checkHostName validates a normalized host name.
func checkHostName(h string) error {
	if h == "" || len(h) > 253 {
		return errors.New("invalid host name length (want an IP, a CIDR range or a host name)")
	}
	if numericHost(h) {
		return errors.New("numeric host name is ambiguous; write the IP address in standard form")
	}
	for label := range strings.SplitSeq(h, ".") {
		if err := checkLabel(label); err != nil {
			return err
		}
	}
	return nil
}

// checkLabel validates one host name label.
func checkLabel(l string) error {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return fmt.Errorf("invalid host name label %q (want an IP, a CIDR range or a host name)", l)
	}
	for _, c := range l {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("invalid character %q in host name (want an IP, a CIDR range or a host name; no ports, URLs or wildcards)", c)
		}
	}
	return nil
}

// numericHost reports whether the last label of host name h is a decimal or
// hexadecimal number, as in the legacy IPv4 notations "2130706433", "127.1"
// and "0x7f.1" that some resolvers accept.
func numericHost(h string) bool {
	h = strings.TrimSuffix(h, ".")
	last := h[strings.LastIndexByte(h, '.')+1:]
	if last == "" {
		return false
	}
	lower := strings.ToLower(last)
	if rest, ok := strings.CutPrefix(lower, "0x"); ok {
		return strings.Trim(rest, "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}
