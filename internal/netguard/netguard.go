// Package netguard decides which network addresses Hookline may send
// webhooks to. Outside development mode, deliveries to loopback, private,
// link-local, shared (CGNAT), multicast and unspecified addresses are
// refused: a webhook platform that fetches any URL a tenant names is
// otherwise a way into the network it runs in (SSRF), cloud metadata
// services included.
//
// The check runs twice: when an endpoint is saved (CheckURL, for a clear
// error) and on every connection (Control, so that a name that resolves to a
// public address at save time and a private one later is still refused).
package netguard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"
)

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

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
	case ip.IsPrivate(), cgnat.Contains(ip):
		return true, "private address"
	case ip.IsMulticast():
		return true, "multicast address"
	}
	return false, ""
}

// Control is a net.Dialer Control function that refuses connections to
// blocked addresses. It sees the address actually dialled, after DNS.
func Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: unexpected address %q: %w", address, err)
	}
	if blocked, why := Blocked(ap.Addr()); blocked {
		return fmt.Errorf("destination %s refused: %s (allowed only in development mode)", ap.Addr(), why)
	}
	return nil
}

// Resolver looks up host names; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckURL returns an error if u's host is, or resolves to, a blocked
// address. A name that does not resolve is let through: it may resolve
// later, and Control still guards the connection.
func CheckURL(ctx context.Context, r Resolver, u *url.URL) error {
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if blocked, why := Blocked(ip); blocked {
			return fmt.Errorf("host %s is a %s", host, why)
		}
		return nil
	}
	if host == "localhost" || len(host) > len(".localhost") && host[len(host)-len(".localhost"):] == ".localhost" {
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

// Dialer returns a dialer that refuses blocked addresses unless allowPrivate
// is set (development mode).
func Dialer(allowPrivate bool) *net.Dialer {
	d := &net.Dialer{}
	if !allowPrivate {
		d.Control = Control
	}
	return d
}
