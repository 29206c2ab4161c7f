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
		{"8.8.8.8", false},
		{"172.32.0.1", false},
		{"2606:4700::1111", false},
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
		"public.example":   {netip.MustParseAddr("93.184.216.34")},
		"sneaky.example":   {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.5")},
		"metadata.example": {netip.MustParseAddr("169.254.169.254")},
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
	} {
		u, _ := url.Parse(tt.url)
		err := CheckURL(context.Background(), r, u)
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
