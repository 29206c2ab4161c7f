package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/httperr"
)

// Config holds what the API needs from the server.
type Config struct {
	App *app.App
	// APIKeyHash is the SHA-256 of the admin API key.
	APIKeyHash [32]byte
	// MaxBodyBytes caps request bodies (1 MiB).
	MaxBodyBytes int64
	// MaxInboundBody caps requests received at sources' ingest URLs
	// (DefaultMaxInboundBody).
	MaxInboundBody int64
	Logger         *slog.Logger
}

// Server is the HTTP API: its handlers, which the server's route map
// (internal/server/routes.go) mounts.
type Server struct {
	cfg   Config
	app   *app.App
	ready atomic.Bool
}

// DefaultMaxInboundBody caps a request received at a source (10 MiB;
// GitHub sends up to 25 MB, so serve's --max-inbound-body raises it).
const DefaultMaxInboundBody = 10 << 20

// New returns the API server.
func New(cfg Config) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxInboundBody <= 0 {
		cfg.MaxInboundBody = DefaultMaxInboundBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, app: cfg.App}
}

// SetReady makes /healthz answer 200.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// Authenticated wraps h so it answers 401 without the admin API key.
func (s *Server) Authenticated(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.CheckKey(bearer(r)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hookline"`)
			httperr.Write(w, r, s.cfg.Logger, &hookline.Error{Code: hookline.EUNAUTHORIZED,
				Message: "missing or wrong API key: send it as 'Authorization: Bearer <key>'"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// CheckKey reports, in constant time, whether key is the admin API key.
func (s *Server) CheckKey(key string) bool {
	if key == "" {
		return false
	}
	sum := sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(sum[:], s.cfg.APIKeyHash[:]) == 1
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// Healthz answers 200 once the server is ready, 503 before and while
// the store reports a failure (app.Health).
func (s *Server) Healthz(w http.ResponseWriter, _ *http.Request) {
	// The body is the health check's own {"status"} shape, which probes
	// read; the status comes from the error table like every other.
	if !s.ready.Load() {
		writeJSON(w, httperr.Status(hookline.Errorf(hookline.EUNAVAILABLE, "starting")), map[string]string{"status": "starting"})
		return
	}
	if err := s.app.Health(); err != nil {
		writeJSON(w, httperr.Status(hookline.Errorf(hookline.EUNAVAILABLE, "%v", err)), map[string]string{"status": "failing", "reason": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// MethodNotAllowed answers a path under /v1/ that routes have under other
// methods, which the caller has set in the Allow header.
func (s *Server) MethodNotAllowed(w http.ResponseWriter, r *http.Request) error {
	return hookline.Errorf(hookline.EMETHOD, "%s %s is not a route; this path takes %s", r.Method, r.URL.Path, w.Header().Get("Allow"))
}

// NotFound answers a path under /v1/ that no route has.
func (s *Server) NotFound(w http.ResponseWriter, r *http.Request) error {
	return hookline.Errorf(hookline.ENOTFOUND, "no route for %s %s", r.Method, r.URL.Path)
}
