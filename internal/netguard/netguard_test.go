package netguard

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestBlocked(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ip      string
		blocked bool
	}{
		{"127.0.0.1", true},
		{"127.9.9.9", true},
		{"::1", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"192.168.1.1", true},
		{"169.254.169.254", true},
		{"fe80::1", true},
		{"fd00:ec2::254", true},
		{"100.64.0.1", true},
		{"0.0.0.0", true},
		{"::", true},
		{"224.0.0.1", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		// Issue 20: IPv6 forms that embed IPv4, and IPv4 reserved ranges.
		{"64:ff9b::a9fe:a9fe", true}, // NAT64 of 169.254.169.254
		{"64:ff9b::7f00:1", true},
		{"64:ff9b::808:808", true}, // refused whole, even when it embeds a public address
		{"64:ff9b:1::1", true},
		{"2002:7f00:1::1", true},   // 6to4 of 127.0.0.1
		{"2002:a9fe:a9fe::", true}, // 6to4 of 169.254.169.254
		{"::127.0.0.1", true},      // IPv4-compatible
		{"::169.254.169.254", true},
		{"::8.8.8.8", true},
		{"::ffff:0:127.0.0.1", true}, // IPv4-translated
		{"fec0::1", true},
		{"feff::1", true},
		{"2001::1", true}, // Teredo
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", true},
		{"0.0.0.1", true},
		{"0.255.255.255", true},
		{"240.0.0.1", true},
		{"255.255.255.255", true},
		{"198.18.0.1", true},
		{"198.19.255.255", true},
		{"192.0.2.1", true},
		{"::ffff:198.18.0.1", true},
		{"fe80::1%eth0", true},
		{"8.8.8.8", false},
		{"1.0.0.1", false},
		{"172.32.0.1", false},
		{"198.17.255.255", false},
		{"198.20.0.0", false},
		{"239.255.255.255", true}, // multicast
		{"223.255.255.255", false},
		{"2606:4700::1111", false},
		{"2001:4860:4860::8888", false}, // 2001:4860::/32 is not Teredo
		{"2003::1", false},
	} {
		got, why := Blocked(netip.MustParseAddr(tt.ip))
		if got != tt.blocked {
			t.Errorf("Blocked(%s) = %v (%s), want %v", tt.ip, got, why, tt.blocked)
		}
	}
}

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ips, ok := f[host]; ok {
		return ips, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	r := fakeResolver{
		"public.example":    {netip.MustParseAddr("93.184.216.34")},
		"sneaky.example":    {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.5")},
		"metadata.example":  {netip.MustParseAddr("169.254.169.254")},
		"nat64.example":     {netip.MustParseAddr("64:ff9b::a9fe:a9fe")},
		"sixtofour.example": {netip.MustParseAddr("2002:a00:1::1")},
		"teredo.example":    {netip.MustParseAddr("2001:0:4136:e378:8000:63bf:3fff:fdd2")},
		"bench.example":     {netip.MustParseAddr("198.18.0.7")},
		"zero.example":      {netip.MustParseAddr("0.1.2.3")},
	}
	for _, tt := range []struct {
		url     string
		wantErr string
	}{
		{"https://public.example/hook", ""},
		{"https://unresolvable.example/hook", ""},
		{"https://8.8.8.8/hook", ""},
		{"http://127.0.0.1:8000/hook", "loopback"},
		{"http://localhost:8000/hook", "loopback"},
		{"http://api.localhost/hook", "loopback"},
		{"http://[::1]/hook", "loopback"},
		{"https://sneaky.example/hook", "private"},
		{"https://metadata.example/latest", "link-local"},
		// Issue 20: each SSRF form, literal and through a name.
		{"http://[64:ff9b::a9fe:a9fe]/latest", "NAT64 address (it carries the IPv4 address 169.254.169.254)"},
		{"http://[64:ff9b::169.254.169.254]/latest", "NAT64"},
		{"http://[2002:a9fe:a9fe::1]/", "6to4 address (it carries the IPv4 address 169.254.169.254)"},
		{"http://[::169.254.169.254]/", "IPv4-compatible"},
		{"http://[::7f00:1]/", "IPv4-compatible"},
		{"http://[fec0::1]/", "site-local"},
		{"http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "Teredo address (it carries the IPv4 address 127.0.0.1)"},
		{"http://0.0.0.0/", "unspecified"},
		{"http://0.1.2.3/", "this network"},
		{"http://240.0.0.1/", "reserved"},
		{"http://255.255.255.255/", "reserved"},
		{"http://198.18.0.1/", "benchmarking"},
		{"https://nat64.example/", "NAT64"},
		{"https://sixtofour.example/", "6to4"},
		{"https://teredo.example/", "Teredo"},
		{"https://bench.example/", "benchmarking"},
		{"https://zero.example/", "this network"},
		// Hosts the dialer would read as names and curl or a browser as
		// 127.0.0.1: never an endpoint.
		{"http://127.1/", "not a dotted-decimal IPv4 address"},
		{"http://0x7f000001/", "not a dotted-decimal IPv4 address"},
		{"http://2130706433/", "not a dotted-decimal IPv4 address"},
		{"http://0177.0.0.1/", "not a dotted-decimal IPv4 address"},
		{"http://127.0.0.0x1/", "not a dotted-decimal IPv4 address"},
		{"http://example.0x/", "not a dotted-decimal IPv4 address"},
		{"http://localhost./", "loopback name"},
		{"http://LOCALHOST/", "loopback name"},
		{"http://api.localhost./", "loopback name"},
		{"http://a..example/", "not a DNS name"},
		{"http://exa$mple.example/", "not a DNS name"},
		{"https://public.example./hook", ""},
		{"https://1password.example/hook", ""},
		{"https://a-1.b_2.example/hook", ""},
	} {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatalf("url.Parse(%s): %v", tt.url, err)
		}
		err = CheckURL(context.Background(), r, u)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("CheckURL(%s) = %v, want nil", tt.url, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("CheckURL(%s) = %v, want an error about %q", tt.url, err, tt.wantErr)
		}
	}
}

// The connect-time check refuses loopback even when the URL passed the
// save-time check (as a DNS rebinding would arrange).
func TestDialerRefusesLoopbackAtConnect(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()

	guarded := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: Dialer(false).DialContext}}
	_, err := guarded.Get(srv.URL)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("guarded GET %s: err = %v, want a loopback refusal", srv.URL, err)
	}

	dev := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: Dialer(true).DialContext}}
	resp, err := dev.Get(srv.URL)
	if err != nil {
		t.Fatalf("development-mode GET: %v", err)
	}
	resp.Body.Close()
}

// TestControlRefusesEachForm dials every refused form for real through the
// guarded dialer: Control runs before connect(2), so no packet leaves, and
// the refusal is the dialer's own error.
func TestControlRefusesEachForm(t *testing.T) {
	t.Parallel()
	d := Dialer(false)
	for _, addr := range []string{
		"[64:ff9b::a9fe:a9fe]:80", "[64:ff9b::7f00:1]:80", "[2002:a9fe:a9fe::1]:80", "[::169.254.169.254]:80",
		"[fec0::1]:80", "[2001:0:4136:e378:8000:63bf:3fff:fdd2]:80",
		"0.1.2.3:80", "240.0.0.1:80", "198.18.0.1:80", "198.19.0.1:80",
	} {
		t.Run(addr, func(t *testing.T) {
			t.Parallel()
			if err := Control("tcp", addr, nil); err == nil || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("Control(%s) = %v, want a refusal", addr, err)
			}
			ap := netip.MustParseAddrPort(addr)
			if ap.Addr().Is6() && !ipv6Sockets() {
				return // Control alone above; the machine cannot open an IPv6 socket
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				conn.Close()
				t.Fatalf("dialled %s", addr)
			}
			if !strings.Contains(err.Error(), "refused:") {
				t.Fatalf("dial %s: %v, want netguard's refusal", addr, err)
			}
		})
	}
}

func ipv6Sockets() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}
