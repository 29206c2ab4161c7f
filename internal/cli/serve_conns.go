package cli

import (
	"github.com/spf13/pflag"

	"github.com/hookline/hookline/internal/server"
)

// addConnectionFlags registers serve's flags bounding the connections
// clients hold open.
func addConnectionFlags(f *pflag.FlagSet, c *server.Connections) {
	f.IntVar(&c.MaxConnections, "max-connections", server.DefaultMaxConnections, "connections open at once; past it, new ones wait in the kernel's backlog")
	f.DurationVar(&c.Body.Short, "body-timeout", server.DefaultBodyTimeout, "longest an /in/ or /v1/ request body may take to arrive (dashboard forms get 2m); past it, 408 and the connection is closed")
	c.Body.MinRate = server.DefaultMinBodyRate
	f.Var((*byteSize)(&c.Body.MinRate), "min-body-rate", "slowest a request body may arrive, on average, once its first 5s have passed (e.g. 16KiB a second)")
}
