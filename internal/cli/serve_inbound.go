package cli

import (
	"github.com/spf13/pflag"

	"github.com/hookline/hookline/internal/api"
	"github.com/hookline/hookline/internal/server"
)

// addInboundFlags registers serve's flags for receiving webhooks.
func addInboundFlags(f *pflag.FlagSet, c *server.Inbound) {
	f.Int64Var(&c.MaxInboundBody, "max-inbound-body", api.DefaultMaxInboundBody, "largest request body a source accepts at /in/<id>, in bytes (GitHub sends up to 25 MB)")
	f.StringVar(&c.TLSCert, "tls-cert", "", "serve HTTPS with this PEM certificate (with --tls-key); providers require HTTPS")
	f.StringVar(&c.TLSKey, "tls-key", "", "the PEM private key of --tls-cert")
}
