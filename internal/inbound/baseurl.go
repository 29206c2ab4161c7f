package inbound

import (
	"context"
	"net/http"
	"net/netip"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// forwardedScheme is the context key of the scheme a trusted proxy says
// the client used (FromProxy).
type forwardedScheme struct{}

// BaseURL is the scheme and host the caller reached this server at. Ingest
// URLs are built on it, and signatures over the full URL (Twilio's) are
// checked against it. It takes the request's own Host and TLS state: what
// a proxy forwards counts only once FromProxy has applied it, which the
// server does with `serve --trust-proxy` alone, since any client can send
// X-Forwarded-* headers.
func BaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if s, ok := r.Context().Value(forwardedScheme{}).(string); ok {
		scheme = s
	}
	return scheme + "://" + r.Host
}

// FromProxy returns r as the client sent it to the proxy in front of this
// server: Host from X-Forwarded-Host, the scheme (for BaseURL) from
// X-Forwarded-Proto, and RemoteAddr (for sources' allowed_ips and what a
// captured request records) from X-Forwarded-For. Of a header given as a
// list, the last entry counts: the one the proxy itself added, where the
// earlier ones are whatever the client claimed. r is not changed.
func FromProxy(r *http.Request) *http.Request {
	out := r
	clone := func() {
		if out == r {
			out = r.Clone(r.Context())
		}
	}
	// A host that is no valid Host header (a path, a space, a control
	// character) would end up in ingest URLs and Location headers: ignore it.
	if h := lastForwarded(r.Header, "X-Forwarded-Host"); h != "" && httpguts.ValidHostHeader(h) {
		clone()
		out.Host = h
	}
	if p := strings.ToLower(lastForwarded(r.Header, "X-Forwarded-Proto")); p == "http" || p == "https" {
		clone()
		out = out.WithContext(context.WithValue(out.Context(), forwardedScheme{}, p))
	}
	if a, ok := forwardedAddr(lastForwarded(r.Header, "X-Forwarded-For")); ok {
		clone()
		out.RemoteAddr = netip.AddrPortFrom(a.Unmap(), 0).String()
	}
	return out
}

// forwardedAddr is the address of an X-Forwarded-For entry: an address,
// or an address with a port as some proxies write it (203.0.113.7:5555,
// [2001:db8::1]:443), which would otherwise fall back to the proxy's own
// address and let every client pass an allowlist that names the proxy.
func forwardedAddr(entry string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(entry); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(entry); err == nil {
		return ap.Addr(), true
	}
	return netip.Addr{}, false
}

// lastForwarded is the last entry of a header that proxies append to (a
// comma-separated list, possibly over several header lines).
func lastForwarded(h http.Header, name string) string {
	vals := h.Values(name)
	if len(vals) == 0 {
		return ""
	}
	v := vals[len(vals)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}
