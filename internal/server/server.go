package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hookline/hookline/internal/api"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/postgres"
)

// APIKeyFile is the file in the data directory that keeps a generated API
// key, readable only by its owner, so the CLI on the same machine finds it.
const APIKeyFile = "api_key"

// Run serves until ctx ends, then shuts down within about ten seconds:
// it stops taking requests, lets publishes in progress commit, lets
// attempts in flight finish or gives their deliveries back, and closes the
// store. It prints the address it listens on to stdout.
func Run(ctx context.Context, cfg Config, stdout io.Writer, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	keys, err := loadSecretKeys(cfg) // HOOKLINE_SECRET_KEY or the key file (secrets.go)
	if err != nil {
		return err
	}
	store, closeStore, err := openStore(ctx, cfg, log, keys.ring) // SQLite in the data dir, or PostgreSQL (store.go)
	if err != nil {
		return err
	}
	defer closeStore()
	tuning := hookline.TuningOf(store) // the store's, so that nothing here branches on the database
	tuneRuntime(cfg, tuning)
	keys.store, keys.log = store, log
	if r, err := keys.reseal(ctx); err != nil {
		return err
	} else if r.Total > 0 && len(r.Skipped) == r.Total {
		// Not one bad row but the wrong key (a database copied without
		// its key, nodes given different keys): serving would fail every
		// delivery, so refuse to start, naming the first value.
		return fmt.Errorf("no sealed secret opens under key %s (HOOKLINE_SECRET_KEY or the secret_key file): %s", keys.ring.CurrentID(), r.Skipped[0])
	} else if r.Count > 0 {
		log.Info("sealed secrets kept in plain text or under an older key", "count", r.Count, "key_id", keys.ring.CurrentID())
	}
	cluster := newClusterWiring(store, cfg, log) // wake-ups, run-once jobs, retention (cluster.go)
	defer cluster.stop()

	// Listen before making the API key: a key printed "once" by a start
	// that then failed (the port taken) would be lost, since the next start
	// finds it kept and prints nothing.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", cfg.Addr, err)
	}
	defer ln.Close() // in case of an early return; Shutdown closes it too
	keyHash, err := nodeAPIKey(ctx, cfg, store, stdout)
	if err != nil {
		return err
	}

	userAgent := "Hookline/" + cfg.Version + " (+https://github.com/hookline/hookline)"
	sender := &delivery.HTTPSender{Client: delivery.NewHTTPClient(cfg.Dev), UserAgent: userAgent}
	dev := newDevLoop(sender, log) // listen devices (listen.go)
	obs := newObserver(ctx, cfg, store, log)
	// The one live tail of attempts, which the dashboard and `hookline
	// tail` watch, fed by the engine's attempt hook. Its streams end as
	// the server begins to stop, so that they do not hold up the HTTP
	// server's graceful shutdown.
	tail := app.NewTail()
	context.AfterFunc(ctx, tail.Close)
	engine := delivery.New(delivery.Config{
		Store:          store,
		Schedule:       cfg.RetrySchedule,
		Timeout:        cfg.Timeout,
		MaxConcurrency: cfg.MaxConcurrency,
		Breaker:        hookline.BreakerRule{Failures: cfg.BreakerFailures, CoolDown: cfg.BreakerCoolDown},
		DisableAfter:   cfg.DisableAfter,
		Transports:     dev.transports(map[string]delivery.Sender{"http": sender, "https": sender}),
		OnAttempt:      obs.attemptHook(tail), // dashboard.go
		Logger:         log,
		Lease:          cfg.Lease,
		OnBacklog:      cluster.backlogged,
		RunOnce:        cluster.runOnce,
	})
	publisher := delivery.NewPublisher(delivery.PublisherConfig{Store: store, Engine: engine, Logger: log, Committers: tuning.Committers, Linger: tuning.Linger})
	jobs := delivery.NewJobRunner(delivery.JobsConfig{Store: store, Engine: engine, Owner: engine.Owner(), Logger: log})
	operational := delivery.NewOperational(delivery.OperationalConfig{Store: store, Publisher: publisher, Logger: log})
	application := app.New(app.Config{
		Store: store, Publisher: publisher, Engine: engine, Jobs: jobs, Operational: operational, Dev: cfg.Dev, Logger: log,
		SecretKeys: keys, AdminKeyID: app.AdminKeyID(keyHash), Gate: cfg.Inbound.gate(cfg.DataDir, !tuning.Shared),
		OnPublish: func() { obs.metrics.Published(1) }, OnIngest: obs.metrics.InboundRequest,
		MaxConcurrency: cfg.MaxConcurrency, Timeout: cfg.Timeout, BreakerFailures: cfg.BreakerFailures, Tail: tail,
	})
	defer application.Close()
	apiServer := api.New(api.Config{
		App: application, APIKeyHash: keyHash, MaxBodyBytes: cfg.MaxBodyBytes, Logger: log,
		MaxInboundBody: cfg.MaxInboundBody,
	})
	dev.start(ctx, application)
	routes := &surfaces{api: apiServer, dash: obs.dashboard(application, apiServer.CheckKey), hub: dev.hub, tail: dev.tail,
		metrics: obs.metrics, log: log} // routes.go
	dev.joinCluster(cluster) // listen devices connected to other nodes (listen_cluster.go)

	httpServer := &http.Server{
		Handler:           cfg.Inbound.forwarded(bodyDeadlines(routes.handler(), cfg.Body, time.Now)), // conns.go, inbound.go
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if cfg.PprofAddr != "" {
		go servePprof(cfg.PprofAddr, log)
	}
	engine.Start()
	jobs.Start()
	operational.Start()
	cluster.start(engine)
	serveErr := make(chan error, 1)
	go func() { serveErr <- cfg.Inbound.serve(httpServer, cfg.Connections.listen(ln)) }()
	apiServer.SetReady(true)

	if cfg.Dev {
		log.Warn("development mode: deliveries to loopback and private addresses are allowed")
	}
	// Name where the data is: with PostgreSQL the data directory is never
	// created, so naming it would send an operator looking in the wrong place.
	where, whereKey, whereVal := "data in "+cfg.DataDir, "data", cfg.DataDir
	if UsesPostgres(cfg.DB) {
		where = postgres.Describe(cfg.DB)
		whereKey, whereVal = "db", where
	}
	if !tuning.Shared { // a shared database has no data directory; the key is the operator's to pass
		recordURL(cfg, ln.Addr(), log) // so the CLI picks this server's key (urlfile.go); before the line tests wait for
	}
	fmt.Fprintf(stdout, "Hookline %s listening on %s://%s (%s)\n", cfg.Version, cfg.Inbound.scheme(), ln.Addr(), where)
	log.Info("serving", "addr", ln.Addr().String(), whereKey, whereVal, "node", engine.Owner(),
		"retry_schedule", delivery.FormatSchedule(orDefault(cfg.RetrySchedule)), "timeout", cfg.Timeout, "max_concurrency", cfg.MaxConcurrency)

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}
	log.Info("shutting down")
	apiServer.SetReady(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		httpServer.Close()
	}
	operational.Stop() // publishes through the publisher: stopped first
	publisher.Stop()
	jobs.Stop()
	engineCtx, cancelEngine := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelEngine()
	if err := engine.Stop(engineCtx); err != nil {
		log.Error("stopping the delivery engine", "err", err)
	}
	log.Info("stopped")
	return nil
}

func orDefault(s []time.Duration) []time.Duration {
	if s == nil {
		return delivery.DefaultSchedule
	}
	return s
}

// lockDir takes an exclusive lock on dir, so two servers never share one
// SQLite database (the store relies on it to clear stale leases at start).
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("--data %s is in use by another hookline serve: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// apiKey returns the SHA-256 of the admin API key: HOOKLINE_API_KEY when
// set, else the key kept in the data directory, else a new one, kept there
// and printed this once.
func apiKey(cfg Config, stdout io.Writer) ([32]byte, error) {
	if cfg.APIKey != "" {
		return sha256.Sum256([]byte(cfg.APIKey)), nil
	}
	path := filepath.Join(cfg.DataDir, APIKeyFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil && len(strings.TrimSpace(string(b))) >= 16:
		return sha256.Sum256([]byte(strings.TrimSpace(string(b)))), nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return [32]byte{}, fmt.Errorf("reading the API key: %w", err)
	}
	key := NewAPIKey()
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return [32]byte{}, fmt.Errorf("storing the API key: %w", err)
	}
	fmt.Fprintf(stdout, "Your API key (shown once; also kept in %s): %s\n", path, key)
	return sha256.Sum256([]byte(key)), nil
}

// NewAPIKey makes a random admin API key (128 bits of entropy).
func NewAPIKey() string {
	return "hl_sk_" + rand.Text()
}

// servePprof serves the Go profiler on its own listener, never on the API's.
func servePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Info("profiler listening", "addr", addr)
	if err := http.ListenAndServe(addr, mux); err != nil {
		log.Error("profiler stopped", "err", err)
	}
}
