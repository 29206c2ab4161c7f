package app

import (
	"log/slog"
	"net"
	"time"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/inbound"
	"github.com/hookline/hookline/internal/netguard"
)

// Config is what the application layer works with.
type Config struct {
	Store     hookline.Store
	Publisher *delivery.Publisher
	// Engine is woken when a change makes deliveries due; nil in tests
	// that run no engine.
	Engine *delivery.Engine
	// Jobs runs the background jobs Recover stores; nil in tests that run
	// none (Recover then answers EUNAVAILABLE).
	Jobs *delivery.JobRunner
	// Operational publishes the operational events of changes made here
	// (an endpoint enabled or disabled by hand); nil publishes none.
	Operational *delivery.Operational
	// Dev allows endpoints and connections on loopback and private
	// addresses.
	Dev      bool
	Resolver netguard.Resolver
	// RotationOverlap is how long a rotated-out secret keeps signing when
	// a rotation does not say (24 h).
	RotationOverlap time.Duration
	// Gate admits requests to ingest URLs (limits, quotas, free disk); nil
	// admits every one.
	Gate *inbound.Gate
	// SecretKeys rotates the key sealing secrets at rest; nil when the
	// store seals nothing.
	SecretKeys SecretKeys
	// AdminKeyID names the admin API key (AdminKeyID): dashboard sessions
	// that signed in with another key are refused, so that changing the
	// key signs everyone out.
	AdminKeyID string
	// OnPublish, when set, is told of every event a publish stored (not of
	// idempotent replays): the metrics count them.
	OnPublish func()
	// OnIngest, when set, is told the source name and verdict (accepted,
	// rejected, duplicate) of every request a source captures.
	OnIngest func(source, verdict string)
	// OnWake, when set, is told of every wake-up the application gives
	// the engine (a test that runs no engine watches them).
	OnWake func()
	// MaxConcurrency and Timeout are the server's defaults for endpoints
	// without their own (--max-concurrency, --timeout), which endpoints
	// are shown with.
	MaxConcurrency int
	Timeout        time.Duration
	// BreakerFailures is the server's --breaker-failures, for endpoints
	// without their own circuit_breaker.
	BreakerFailures int
	// Tail is the live tail of attempts the surfaces subscribe to; the
	// server makes it before the engine, whose attempt hook feeds it. nil
	// makes one that nothing feeds.
	Tail   *Tail
	Logger *slog.Logger
	Now    func() time.Time
}

// App is the application layer. Its methods are safe for concurrent use.
type App struct {
	cfg Config
	// forwarder sends replays of captured requests.
	forwarder *delivery.ForwardSender
	// keys caches the JWK set of the endpoints' public keys.
	keys keyCache
	// keySets holds the secret endpoints' key set ids are made with.
	keySets keySetSecret
}

// New returns the application layer over cfg's store, publisher and engine.
func New(cfg Config) *App {
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
	if cfg.Gate == nil {
		cfg.Gate = inbound.NewGate(inbound.GateConfig{Now: cfg.Now})
	}
	if cfg.Tail == nil {
		cfg.Tail = NewTail()
	}
	return &App{cfg: cfg, forwarder: &delivery.ForwardSender{Client: delivery.NewHTTPClient(cfg.Dev)}}
}

// Now is the application's clock.
func (a *App) Now() time.Time { return a.cfg.Now() }

// Dev reports whether the server runs in development mode.
func (a *App) Dev() bool { return a.cfg.Dev }

// wake tells the engine that deliveries may have become due: the one place
// a change reaches the engine.
func (a *App) wake() {
	if a.cfg.Engine != nil {
		a.cfg.Engine.Wake()
	}
	if a.cfg.OnWake != nil {
		a.cfg.OnWake()
	}
}

// Close releases the idle connections of the replay sender.
func (a *App) Close() { a.forwarder.Client.CloseIdle() }

// Actor says which surface a change comes through, for what the change
// records (an endpoint's disabled reason, a test event's origin).
type Actor string

// The surfaces.
const (
	ByAPI       Actor = "API"
	ByDashboard Actor = "dashboard"
)

// enabledReason is what the hookline.endpoint.enabled event of an
// endpoint enabled by hand says.
func (by Actor) enabledReason() string {
	if by == ByDashboard {
		return "enabled from the dashboard"
	}
	return "enabled through the API"
}

// disabledReason is what an endpoint disabled by hand records.
func (by Actor) disabledReason() string {
	if by == ByDashboard {
		return "disabled from the dashboard"
	}
	return "disabled through the API"
}
