package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/dashboard"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/metrics"
)

// sessionKeySetting names the store setting that keeps the key signing
// dashboard sessions.
const sessionKeySetting = "dashboard_session_key"

// observer wires what lets people see a running server: the dashboard at
// /, Prometheus metrics at /metrics, and the fan-out of the engine's
// OnAttempt hook. Run makes it before the engine (for the hook) and mounts
// it once the API exists.
type observer struct {
	ctx     context.Context
	cfg     Config
	store   hookline.Store
	sealer  hookline.SecretSealer // seals the session key in the store
	log     *slog.Logger
	metrics *metrics.Metrics

	mu    sync.RWMutex
	hooks []func(delivery.Result) // besides metrics and the dashboard's tail
	dash  *dashboard.Dashboard
}

// newObserver makes the metrics at once, so that the engine's hook can
// count from its first attempt. Its background work ends with ctx.
func newObserver(ctx context.Context, cfg Config, store hookline.Store, sealer hookline.SecretSealer, log *slog.Logger) *observer {
	o := &observer{ctx: ctx, cfg: cfg, store: store, sealer: sealer, log: log}
	mc := metrics.Config{Backlog: store.Backlog, Endpoints: o.countEndpoints}
	if bw, ok := store.(hookline.BackgroundWriter); ok {
		mc.BackgroundFailures = func() int64 { n, _ := bw.BackgroundHealth(); return n }
	}
	o.metrics = metrics.New(mc)
	return o
}

// addHook adds fn to the attempts' fan-out (for `hookline tail` or other
// watchers). fn must not block.
func (o *observer) addHook(fn func(delivery.Result)) {
	o.mu.Lock()
	o.hooks = append(o.hooks, fn)
	o.mu.Unlock()
}

// fanOut returns the engine's OnAttempt hook: each recorded attempt goes
// to the metrics, the dashboard's live tail, then to others (nil ones are
// skipped), so that several watchers share the engine's one hook.
func (o *observer) fanOut(others ...func(delivery.Result)) func(delivery.Result) {
	for _, h := range others {
		if h != nil {
			o.addHook(h)
		}
	}
	return o.onAttempt
}

func (o *observer) onAttempt(r delivery.Result) {
	o.metrics.Attempt(r.Completion)
	o.mu.RLock()
	dash, hooks := o.dash, o.hooks
	o.mu.RUnlock()
	if dash != nil {
		dash.Attempt(r)
	}
	for _, h := range hooks {
		h(r)
	}
}

// dashboard makes the dashboard over the application layer, signing
// people in with the API's key check, and starts the observer's
// background work.
func (o *observer) dashboard(application *app.App, checkKey func(string) bool) *dashboard.Dashboard {
	key, err := sessionKey(o.ctx, o.store, o.sealer)
	if err != nil {
		// Still serve: sessions then last until the next restart.
		o.log.Warn("keeping the dashboard session key; sessions will not survive a restart", "err", err)
		key = []byte(rand.Text() + rand.Text())
	}
	dash := dashboard.New(dashboard.Config{
		App: application, CheckKey: checkKey,
		SessionKey: key, Secure: o.cfg.Inbound.scheme() == "https", Logger: o.log,
	})
	o.mu.Lock()
	o.dash = dash
	o.mu.Unlock()
	go o.background(dash)
	return dash
}

// background samples the backlog once a minute for the overview's charts,
// prunes aggregates older than a week once an hour, and closes the
// dashboard's streams when the server stops.
func (o *observer) background(dash *dashboard.Dashboard) {
	sample := func() {
		ctx, cancel := context.WithTimeout(o.ctx, 10*time.Second)
		defer cancel()
		b, err := o.store.Backlog(ctx)
		if err == nil {
			err = o.store.RecordBacklog(ctx, time.Now(), b)
		}
		if err != nil && o.ctx.Err() == nil {
			o.log.Warn("sampling the backlog", "err", err)
		}
	}
	prune := func() {
		ctx, cancel := context.WithTimeout(o.ctx, time.Minute)
		defer cancel()
		if err := o.store.PruneStats(ctx, time.Now().Add(-8*24*time.Hour)); err != nil && o.ctx.Err() == nil {
			o.log.Warn("pruning dashboard aggregates", "err", err)
		}
	}
	sample()
	prune()
	minute := time.NewTicker(time.Minute)
	defer minute.Stop()
	for n := 1; ; n++ {
		select {
		case <-o.ctx.Done():
			dash.Close()
			return
		case <-minute.C:
			sample()
			if n%60 == 0 {
				prune()
			}
		}
	}
}

// countEndpoints counts endpoints by status for the metrics (cached by
// the caller). It reads at most 10 000 endpoints.
func (o *observer) countEndpoints(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	p := hookline.Page{Limit: 100}
	for range 100 {
		eps, more, err := o.store.ListEndpoints(ctx, hookline.EndpointFilter{Page: p})
		if err != nil {
			return nil, err
		}
		for _, e := range eps {
			out[e.Status]++
			out[metrics.CircuitKey(e.Circuit.StateAt(time.Now()))]++
		}
		if !more || len(eps) == 0 {
			break
		}
		p.StartingAfter = eps[len(eps)-1].ID
	}
	return out, nil
}

// sessionKey returns the dashboard's session key, kept in the store's
// settings so that restarts, and every node sharing a database, accept the
// same cookies, sealed like the other secrets (ResealSecrets re-seals it
// with them). Two nodes making it at once both read back the one that was
// stored last.
func sessionKey(ctx context.Context, store hookline.Store, sealer hookline.SecretSealer) ([]byte, error) {
	read := func() (string, error) {
		v, err := store.Setting(ctx, sessionKeySetting)
		if err != nil {
			return "", err
		}
		return sealer.Open(v)
	}
	key, err := read()
	if err == nil && len(key) >= 64 {
		return []byte(key), nil
	}
	if err != nil && hookline.ErrorCode(err) != hookline.ENOTFOUND {
		return nil, fmt.Errorf("reading the session key: %w", err)
	}
	var k [32]byte
	_, _ = rand.Read(k[:])
	sealed, err := sealer.Seal(hex.EncodeToString(k[:]))
	if err != nil {
		return nil, fmt.Errorf("sealing the session key: %w", err)
	}
	if err := store.SetSetting(ctx, sessionKeySetting, sealed); err != nil {
		return nil, fmt.Errorf("storing the session key: %w", err)
	}
	if key, err = read(); err != nil {
		return nil, fmt.Errorf("reading the session key: %w", err)
	}
	return []byte(key), nil
}
