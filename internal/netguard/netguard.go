// Package netguard decides which network addresses Hookline may send
// webhooks to. Outside development mode, deliveries to loopback, private,
// link-local, shared (CGNAT), multicast, unspecified and reserved
// addresses are refused, and so are the IPv6 forms that carry an IPv4
// address inside them (NAT64, 6to4, Teredo, IPv4-compatible): a webhook
// platform that fetches any URL a tenant names is otherwise a way into the
// network it runs in (SSRF), cloud metadata services included.
//
// The check runs twice: when an endpoint is saved (CheckURL, for a clear
// error) and on every connection (Control, so that a name that resolves to a
// public address at save time and a private one later is still refused).
// Both read addresses with the same parser (parseAddr), so a host the saved
// check calls an address is the address the dialer would reach, and a host
// that is neither a literal address nor a DNS name (127.1, 0x7f000001) is
// refused when saved rather than left to fail at every attempt.
package netguard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// refusal is a range of addresses webhooks may not reach and why. embed
// says where an IPv4 address sits inside an IPv6 one, for the message.
type refusal struct {
	prefix netip.Prefix
	why    string
	embed  func(a [16]byte) netip.Addr
}

// last32 is the IPv4 address in the low 32 bits (NAT64, ::a.b.c.d).
func last32(a [16]byte) netip.Addr { return netip.AddrFrom4([4]byte(a[12:16])) }

// refused lists the ranges beyond what netip's predicates cover. The IPv6
// forms that embed IPv4 are refused whole: behind them a gateway the
// operator may not know about turns the address into the IPv4 one
// (64:ff9b::a9fe:a9fe is 169.254.169.254, the cloud metadata service).
var refused = func() []refusal {
	rs := []struct {
		cidr, why string
		embed     func([16]byte) netip.Addr
	}{
		{"0.0.0.0/8", `"this network" address (0.0.0.0/8)`, nil},
		{"100.64.0.0/10", "private address (shared, CGNAT)", nil},
		{"192.0.0.0/24", "reserved address (IETF protocol assignments)", nil},
		{"192.0.2.0/24", "reserved address (documentation)", nil},
		{"198.18.0.0/15", "reserved address (benchmarking)", nil},
		{"198.51.100.0/24", "reserved address (documentation)", nil},
		{"203.0.113.0/24", "reserved address (documentation)", nil},
		{"240.0.0.0/4", "reserved address (240.0.0.0/4, broadcast included)", nil},
		{"::/96", "IPv4-compatible IPv6 address", last32},
		{"::ffff:0:0:0/96", "IPv4-translated IPv6 address", last32},
		{"64:ff9b::/96", "NAT64 address", last32},
		{"64:ff9b:1::/48", "NAT64 address (local use)", nil},
		{"100::/64", "reserved address (discard only)", nil},
		{"2001::/32", "Teredo address", func(a [16]byte) netip.Addr {
			// The client's address, stored inverted.
			return netip.AddrFrom4([4]byte{^a[12], ^a[13], ^a[14], ^a[15]})
		}},
		{"2001:db8::/32", "reserved address (documentation)", nil},
		{"2002::/16", "6to4 address", func(a [16]byte) netip.Addr { return netip.AddrFrom4([4]byte(a[2:6])) }},
		{"fec0::/10", "site-local address (deprecated, routed as private)", nil},
	}
	out := make([]refusal, len(rs))
	for i, r := range rs {
		out[i] = refusal{netip.MustParsePrefix(r.cidr), r.why, r.embed}
	}
	return out
}()

// Blocked reports whether ip is an address webhooks must not reach outside
// development mode, and why.
func Blocked(ip netip.Addr) (bool, string) {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return true, "invalid address"
	case ip.IsLoopback():
		return true, "loopback address"
	case ip.IsUnspecified():
		return true, "unspecified address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return true, "link-local address (cloud metadata lives there)"
	case ip.IsPrivate():
		return true, "private address"
	case ip.IsMulticast():
		return true, "multicast address"
	}
	for _, r := range refused {
		if !r.prefix.Contains(ip.WithZone("")) {
			continue
		}
		if r.embed != nil {
			return true, fmt.Sprintf("%s (it carries the IPv4 address %s)", r.why, r.embed(ip.As16()))
		}
		return true, r.why
	}
	return false, ""
}

// parseAddr reads a literal IP address the one way both checks do: the
// dialer hands Control exactly what it connects to, and CheckURL reads a
// URL's host with the same function, so the two cannot disagree about
// what an address is.
func parseAddr(s string) (netip.Addr, error) { return netip.ParseAddr(s) }

// Control is a net.Dialer Control function that refuses connections to
// blocked addresses. It sees the address actually dialled, after DNS.
func Control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("netguard: unexpected address %q: %w", address, err)
	}
	ip, err := parseAddr(host)
	if err != nil {
		return fmt.Errorf("netguard: unexpected address %q: %w", address, err)
	}
	if blocked, why := Blocked(ip); blocked {
		return fmt.Errorf("destination %s refused: %s (allowed only in development mode)", ip, why)
	}
	return nil
}

// Resolver looks up host names; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckURL returns an error if u's host is, or resolves to, a blocked
// address, or is neither an IP address nor a DNS name. A name that does
// not resolve is let through: it may resolve later, and Control still
// guards the connection.
func CheckURL(ctx context.Context, r Resolver, u *url.URL) error {
	host := u.Hostname()
	if ip, err := parseAddr(host); err == nil {
		if blocked, why := Blocked(ip); blocked {
			return fmt.Errorf("host %s is a %s", host, why)
		}
		return nil
	}
	if err := checkName(host); err != nil {
		return err
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return fmt.Errorf("host %s is a loopback name", host)
	}
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, ip := range ips {
		if blocked, why := Blocked(ip); blocked {
			return fmt.Errorf("host %s resolves to %s, a %s", host, ip, why)
		}
	}
	return nil
}

// checkName refuses a host that is not a DNS name of letters, digits,
// hyphens and underscores in labels of 1 to 63 bytes. A last label that is
// a number (127.1, 2130706433, 0x7f000001, 0177.0.0.1) makes the host an
// IPv4 address in the forms inet_aton and browsers accept and netip does
// not: curl would reach 127.0.0.1 where the dialer looks up a name, so
// such a host can only mislead.
func checkName(host string) error {
	name := strings.TrimSuffix(host, ".")
	if name == "" || len(name) > 253 {
		return fmt.Errorf("host %q is not a DNS name", host)
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return fmt.Errorf("host %q is not a DNS name (empty or over-long label)", host)
		}
		for _, c := range []byte(l) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("host %q is not a DNS name (it has %q)", host, c)
			}
		}
	}
	if numeric(labels[len(labels)-1]) {
		return fmt.Errorf("host %q is not a dotted-decimal IPv4 address nor a DNS name: write the address as four decimal numbers (a.b.c.d)", host)
	}
	return nil
}

// numeric reports whether a label is a number in decimal, octal or hex
// (0x…), as the IPv4 parsers of inet_aton and WHATWG URLs read it.
func numeric(l string) bool {
	l = strings.ToLower(l)
	digits := "0123456789"
	if strings.HasPrefix(l, "0x") {
		l, digits = l[2:], "0123456789abcdef"
		if l == "" {
			return true // "0x" alone is 0 to WHATWG
		}
	}
	return strings.Trim(l, digits) == ""
}

// Dialer returns a dialer that refuses blocked addresses unless allowPrivate
// is set (development mode).
func Dialer(allowPrivate bool) *net.Dialer {
	d := &net.Dialer{}
	if !allowPrivate {
		d.Control = Control
	}
	return d
}
