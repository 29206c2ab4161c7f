package cli

import (
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/spf13/pflag"

	"github.com/hookline/hookline/internal/api"
	"github.com/hookline/hookline/internal/server"
)

// addInboundFlags registers serve's flags for receiving webhooks.
func addInboundFlags(f *pflag.FlagSet, c *server.Inbound) {
	f.Int64Var(&c.MaxInboundBody, "max-inbound-body", api.DefaultMaxInboundBody, "largest request body a source accepts at /in/<id>, in bytes (GitHub sends up to 25 MB)")
	f.StringVar(&c.TLSCert, "tls-cert", "", "serve HTTPS with this PEM certificate (with --tls-key); providers require HTTPS")
	f.StringVar(&c.TLSKey, "tls-key", "", "the PEM private key of --tls-cert")
	c.MinFreeDisk = server.DefaultMinFreeDisk
	f.Var((*byteSize)(&c.MinFreeDisk), "min-free-disk", "answer /in/ with 507 while the data directory's disk has less free space than this (e.g. 1GiB, 500MB; 0 disables); outbound keeps running")
	f.IntVar(&c.RateLimit, "inbound-rate-limit", server.DefaultRateLimit, "requests a minute each source accepts unless its limits say otherwise (0: unlimited); past it, 429 with Retry-After")
	c.DailyQuota = server.DefaultDailyQuota
	f.Var((*byteSize)(&c.DailyQuota), "inbound-daily-quota", "body bytes each source accepts a UTC day unless its limits say otherwise (e.g. 1GiB; 0: unlimited); past it, 429 with Retry-After")
	f.BoolVar(&c.TrustProxy, "trust-proxy", false, "behind a reverse proxy: take the client's host, scheme and address from X-Forwarded-Host, -Proto and -For (the last entry of each)")
	f.IntVar(&c.MaxConcurrent, "max-inbound-concurrent", server.DefaultMaxConcurrent, "request bodies received at once over all sources; past it, 503 with Retry-After")
}

// byteSize is a flag holding a size in bytes, given as 1048576, 1MiB or 1MB.
type byteSize uint64

func (b *byteSize) String() string { return humanize.IBytes(uint64(*b)) }
func (b *byteSize) Type() string   { return "size" }
func (b *byteSize) Set(s string) error {
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return fmt.Errorf("want a size such as 1GiB, 500MB or 1048576: %w", err)
	}
	*b = byteSize(n)
	return nil
}
