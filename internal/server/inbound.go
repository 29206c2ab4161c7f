package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
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
}

func (c *Inbound) validate() error {
	if c.MaxInboundBody < 0 || (c.MaxInboundBody > 0 && c.MaxInboundBody < 1024) {
		return errors.New("--max-inbound-body: must be at least 1024 bytes")
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
