package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/inbound"
	"github.com/hookline/hookline/internal/netguard"
)

// Config holds what the API needs from the server.
type Config struct {
	Store     hookline.Store
	Publisher *delivery.Publisher
	Engine    *delivery.Engine
	// APIKeyHash is the SHA-256 of the admin API key.
	APIKeyHash [32]byte
	// Dev allows endpoints on loopback and private addresses.
	Dev bool
	// MaxBodyBytes caps request bodies (1 MiB).
	MaxBodyBytes int64
	// MaxInboundBody caps requests received at sources' ingest URLs
	// (DefaultMaxInboundBody).
	MaxInboundBody int64
	// RotationOverlap is how long a rotated-out secret keeps signing (24 h).
	RotationOverlap time.Duration
	Resolver        netguard.Resolver
	// Gate admits requests to ingest URLs (limits, quotas, free disk); nil
	// admits every one.
	Gate *inbound.Gate
	// OnIngest, when set, is told the source name and verdict (accepted,
	// rejected, duplicate) of every request a source captures (metrics).
	OnIngest func(source, verdict string)
	Logger   *slog.Logger
	Now      func() time.Time
}

// Server is the HTTP API. Mount it with Handler.
type Server struct {
	cfg   Config
	ready atomic.Bool
	mux   *http.ServeMux
	// forwarder sends replays of captured requests (inbound.go).
	forwarder *delivery.ForwardSender
	gate      *inbound.Gate
}

// New returns the API server with every route registered.
func New(cfg Config) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.RotationOverlap <= 0 {
		cfg.RotationOverlap = 24 * time.Hour
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), gate: cfg.Gate}
	if s.gate == nil {
		s.gate = inbound.NewGate(inbound.GateConfig{Now: cfg.Now})
	}
	s.routes()
	return s
}

// Handler returns the API's handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Mux exposes the route table so other parts (dashboard, inbound, listen)
// can register their routes beside the API's.
func (s *Server) Mux() *http.ServeMux { return s.mux }

// SetReady makes /healthz answer 200.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// handlerFunc is a handler that returns its error for Error to write.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts h: it writes h's error in the one standard way.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			Error(w, r, s.cfg.Logger, err)
		}
	})
}

// Authenticated wraps h so it answers 401 without the admin API key.
func (s *Server) Authenticated(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.CheckKey(bearer(r)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hookline"`)
			Error(w, r, s.cfg.Logger, &hookline.Error{Code: hookline.EUNAUTHORIZED,
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

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) error {
	return hookline.Errorf(hookline.ENOTFOUND, "no route for %s %s", r.Method, r.URL.Path)
}
