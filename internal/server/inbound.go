package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"

	"golang.org/x/sys/unix"

	"github.com/hookline/hookline/internal/inbound"
)

// Inbound is what `hookline serve` is told about receiving webhooks:
// providers require HTTPS, so the server can terminate TLS itself, as well
// as run behind a proxy that does.
type Inbound struct {
	// MaxInboundBody caps a request received at a source (10 MiB when 0).
	MaxInboundBody int64
	// TLSCert and TLSKey are PEM files; with both set the server speaks
	// HTTPS only.
	TLSCert string
	TLSKey  string
	// MinFreeDisk is the free space below which /in/ answers 507 while the
	// rest keeps running (1 GiB when 0); SQLite only.
	MinFreeDisk uint64
	// RateLimit and DailyQuota are each source's defaults: requests a
	// minute and body bytes a UTC day; 0 means unlimited.
	RateLimit  int
	DailyQuota uint64
	// MaxConcurrent caps the bodies received at once over all sources.
	MaxConcurrent int
	// TrustProxy honours X-Forwarded-Host, -Proto and -For (the server runs
	// behind a proxy that sets them): without it any client could choose
	// the host of the ingest URLs shown, the URL Twilio signatures are
	// checked against, and the address sources' allowed_ips check.
	TrustProxy bool
}

// Defaults of Inbound's limits.
const (
	DefaultMinFreeDisk   = 1 << 30
	DefaultRateLimit     = 600
	DefaultDailyQuota    = 1 << 30
	DefaultMaxConcurrent = 16
)

func (c *Inbound) validate() error {
	if c.MaxInboundBody < 0 || (c.MaxInboundBody > 0 && c.MaxInboundBody < 1024) {
		return errors.New("--max-inbound-body: must be at least 1024 bytes")
	}
	if c.RateLimit < 0 {
		return errors.New("--inbound-rate-limit: must be 0 (unlimited) or more")
	}
	if c.DailyQuota > math.MaxInt64 {
		return errors.New("--inbound-daily-quota: too large")
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.MaxConcurrent < 0 {
		return errors.New("--max-inbound-concurrent: must be at least 1")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key: give both or neither")
	}
	if c.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey); err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
	}
	return nil
}

// forwarded wraps h to see requests as the proxy in front received them,
// with TrustProxy; without, it is h.
func (c *Inbound) forwarded(h http.Handler) http.Handler {
	if !c.TrustProxy {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, inbound.FromProxy(r)) })
}

// scheme is the scheme clients reach the server with.
func (c *Inbound) scheme() string {
	if c.TLSCert != "" {
		return "https"
	}
	return "http"
}

// serve runs srv on ln, over TLS when configured.
func (c *Inbound) serve(srv *http.Server, ln net.Listener) error {
	if c.TLSCert != "" {
		return srv.ServeTLS(ln, c.TLSCert, c.TLSKey)
	}
	return srv.Serve(ln)
}

// gate builds the inbound gate: the free-space floor is checked on the
// disk holding dataDir when the data lives there (SQLite).
func (c *Inbound) gate(dataDir string, local bool) *inbound.Gate {
	cfg := inbound.GateConfig{RequestsPerMinute: c.RateLimit, BytesPerDay: int64(c.DailyQuota),
		MaxConcurrent: c.MaxConcurrent, MinFreeDisk: c.MinFreeDisk}
	if local {
		cfg.FreeDisk = func() (uint64, error) { return freeDisk(dataDir) }
	}
	return inbound.NewGate(cfg)
}

// freeDisk is the space on dir's file system that an unprivileged process
// may still use.
func freeDisk(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}
