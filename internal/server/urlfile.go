package server

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
)

// URLFile is the file in the data directory that names the URL the server
// last listened on, beside APIKeyFile, so that the CLI takes the key of the
// server it talks to rather than whichever data directory it finds first
// (a repository's ./hookline-data and listen's embedded server can both
// have kept a key).
const URLFile = "server_url"

// recordURL writes URLFile for a node with a data directory (one whose
// database is not shared) listening on addr. An
// unspecified address (0.0.0.0, ::) is recorded as loopback, which is how a
// CLI on the same machine reaches it. Failing to write it only costs the
// CLI its guess, so it is logged, not fatal.
func recordURL(cfg Config, addr net.Addr, log *slog.Logger) {
	u := clientURL(cfg.Inbound.scheme(), addr)
	if err := os.WriteFile(filepath.Join(cfg.DataDir, URLFile), []byte(u+"\n"), 0o600); err != nil {
		log.Warn("recording the server's URL for the CLI", "err", err)
	}
}

// clientURL is the URL a client on this machine reaches a listener at.
func clientURL(scheme string, addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
