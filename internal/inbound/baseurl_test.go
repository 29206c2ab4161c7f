package inbound

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestFromProxy: BaseURL and RemoteAddr take what a proxy forwards only
// after FromProxy, and of a list the entry the proxy added last.
func TestFromProxy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		header        http.Header
		tls           bool
		base, remote  string
		trustedBase   string
		trustedRemote string
	}{
		{name: "nothing forwarded", header: http.Header{},
			base: "http://hookline.test", remote: "192.0.2.1:1234", trustedBase: "http://hookline.test", trustedRemote: "192.0.2.1:1234"},
		{name: "one proxy", header: http.Header{"X-Forwarded-Host": {"hooks.example"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-For": {"203.0.113.7"}},
			base: "http://hookline.test", remote: "192.0.2.1:1234", trustedBase: "https://hooks.example", trustedRemote: "203.0.113.7:0"},
		{name: "a client's claims before the proxy's entries", header: http.Header{"X-Forwarded-Host": {"evil.example, hooks.example"},
			"X-Forwarded-Proto": {"http", "HTTPS"}, "X-Forwarded-For": {"10.0.0.1, 203.0.113.7", "198.51.100.9"}},
			base: "http://hookline.test", remote: "192.0.2.1:1234", trustedBase: "https://hooks.example", trustedRemote: "198.51.100.9:0"},
		{name: "IPv6 and a mapped IPv4", header: http.Header{"X-Forwarded-For": {"2001:db8::1, ::ffff:203.0.113.8"}},
			base: "http://hookline.test", remote: "192.0.2.1:1234", trustedBase: "http://hookline.test", trustedRemote: "203.0.113.8:0"},
		{name: "addresses with a port", header: http.Header{"X-Forwarded-For": {"198.51.100.9", "203.0.113.7:5555"}},
			base: "http://hookline.test", remote: "192.0.2.1:1234", trustedBase: "http://hookline.test", trustedRemote: "203.0.113.7:0"},
		{name: "IPv6 with a port", header: http.Header{"X-Forwarded-For": {"[2001:db8::1]:443"}},
			base: "http://hookline.test", remote: "192.0.2.1:1234", trustedBase: "http://hookline.test", trustedRemote: "[2001:db8::1]:0"},
		{name: "a host with a path", header: http.Header{"X-Forwarded-Host": {"hooks.example/evil"}},
			base: "http://hookline.test", remote: "192.0.2.1:1234", trustedBase: "http://hookline.test", trustedRemote: "192.0.2.1:1234"},
		{name: "a host with a space", header: http.Header{"X-Forwarded-Host": {"hooks.example evil.example"}},
			base: "http://hookline.test", remote: "192.0.2.1:1234", trustedBase: "http://hookline.test", trustedRemote: "192.0.2.1:1234"},
		{name: "a host with a port", header: http.Header{"X-Forwarded-Host": {"hooks.example:8443"}},
			base: "http://hookline.test", remote: "192.0.2.1:1234", trustedBase: "http://hooks.example:8443", trustedRemote: "192.0.2.1:1234"},
		{name: "junk is ignored", header: http.Header{"X-Forwarded-Proto": {"gopher"}, "X-Forwarded-For": {"not-an-ip"}},
			tls: true, base: "https://hookline.test", remote: "192.0.2.1:1234", trustedBase: "https://hookline.test", trustedRemote: "192.0.2.1:1234"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "http://hookline.test/in/src_1", nil)
			r.RemoteAddr = "192.0.2.1:1234"
			r.Header = c.header
			if c.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if got := BaseURL(r); got != c.base || r.RemoteAddr != c.remote {
				t.Errorf("untrusted: BaseURL %q, RemoteAddr %q; want %q, %q", got, r.RemoteAddr, c.base, c.remote)
			}
			p := FromProxy(r)
			if got := BaseURL(p); got != c.trustedBase || p.RemoteAddr != c.trustedRemote {
				t.Errorf("trusted: BaseURL %q, RemoteAddr %q; want %q, %q", got, p.RemoteAddr, c.trustedBase, c.trustedRemote)
			}
			if BaseURL(r) != c.base || r.RemoteAddr != c.remote {
				t.Error("FromProxy changed the request it was given")
			}
		})
	}
}
