package inbound

import (
	"context"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

func TestCheckAddr(t *testing.T) {
	t.Parallel()
	allowed := []string{"192.0.2.0/24", "2001:db8::/32", "198.51.100.7", "::ffff:203.0.113.0/120"}
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"192.0.2.9:443", true},
		{"[::ffff:192.0.2.9]:443", true}, // a v4 peer on a dual-stack socket
		{"198.51.100.7:1", true},
		{"198.51.100.8:1", false},
		{"203.0.113.5:80", true},
		{"[2001:db8::5]:80", true},
		{"[2001:db9::5]:80", false},
		{"127.0.0.1:5000", false},
		{"garbage", false},
	} {
		err := checkAddr(allowed, tc.addr)
		if (err == nil) != tc.ok || (err != nil && hookline.ErrorCode(err) != hookline.EFORBIDDEN) {
			t.Errorf("checkAddr(%s) = %v, want ok %v", tc.addr, err, tc.ok)
		}
	}
	if err := checkAddr(nil, "127.0.0.1:1"); err != nil {
		t.Errorf("no allowlist refused: %v", err)
	}
}

func TestCheckLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		l     hookline.SourceLimits
		param string
	}{
		{hookline.SourceLimits{AllowedIPs: []string{"10.0.0.0/8", "::1"}, RequestsPerMinute: 1, BytesPerDay: 1}, ""},
		{hookline.SourceLimits{AllowedIPs: []string{"10.0.0.0/33"}}, "limits.allowed_ips"},
		{hookline.SourceLimits{AllowedIPs: []string{"example.com"}}, "limits.allowed_ips"},
		{hookline.SourceLimits{AllowedIPs: []string{" 10.0.0.1"}}, "limits.allowed_ips"},
		{hookline.SourceLimits{RequestsPerMinute: -1}, "limits.requests_per_minute"},
		{hookline.SourceLimits{BytesPerDay: -1}, "limits.bytes_per_day"},
	} {
		err := CheckLimits(tc.l)
		if got := hookline.ErrorParam(err); got != tc.param || (tc.param != "" && hookline.ErrorCode(err) != hookline.EINVALID) {
			t.Errorf("CheckLimits(%+v) = %v, want param %q", tc.l, err, tc.param)
		}
	}
}

// TestGateQuota: reservations count against the day's quota until Done
// gives back what was not used, and a new UTC day starts afresh.
func TestGateQuota(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 23, 59, 0, 0, time.UTC)
	g := NewGate(GateConfig{BytesPerDay: 100, Now: func() time.Time { return now }})
	src := &hookline.Source{ID: "src_1"}
	ctx := context.Background()
	a, err := g.Admit(ctx, src, "127.0.0.1:1", -1, 80) // unknown length reserves the cap
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.Admit(ctx, src, "127.0.0.1:1", 30, 80)
	if hookline.ErrorCode(err) != hookline.ERATELIMITED || hookline.ErrorRetryAfter(err) != time.Minute {
		t.Fatalf("over quota: %v (retry after %s), want rate_limited until midnight", err, hookline.ErrorRetryAfter(err))
	}
	a.Done(10)
	a.Done(0) // a second Done gives nothing back twice
	b, err := g.Admit(ctx, src, "127.0.0.1:1", 90, 80)
	if err != nil {
		t.Fatalf("after giving back 70 bytes: %v", err)
	}
	b.Done(90)
	if _, err := g.Admit(ctx, src, "127.0.0.1:1", 1, 80); hookline.ErrorCode(err) != hookline.ERATELIMITED {
		t.Fatalf("quota spent: %v", err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := g.Admit(ctx, src, "127.0.0.1:1", 100, 80); err != nil {
		t.Fatalf("next day: %v", err)
	}
	src.Limits.BytesPerDay = 1000 // a source's own limit wins over the default
	if _, err := g.Admit(ctx, src, "127.0.0.1:1", 500, 800); err != nil {
		t.Fatalf("source's own quota: %v", err)
	}
}
