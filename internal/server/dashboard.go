package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/dashboard"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/metrics"
)

// observer wires what lets people see a running server: the dashboard at
// /, Prometheus metrics at /metrics, and the engine's OnAttempt hook. Run
// makes it before the engine (for the hook) and mounts it once the API
// exists.
type observer struct {
	ctx     context.Context
	cfg     Config
	store   hookline.Store
	log     *slog.Logger
	metrics *metrics.Metrics
}

// newObserver makes the metrics at once, so that the engine's hook can
// count from its first attempt. Its background work ends with ctx.
func newObserver(ctx context.Context, cfg Config, store hookline.Store, log *slog.Logger) *observer {
	o := &observer{ctx: ctx, cfg: cfg, store: store, log: log}
	mc := metrics.Config{Backlog: store.Backlog, Endpoints: o.countEndpoints}
	if bw, ok := store.(hookline.BackgroundWriter); ok {
		mc.BackgroundFailures = func() int64 { n, _ := bw.BackgroundHealth(); return n }
	}
	o.metrics = metrics.New(mc)
	return o
}

// attemptHook returns the engine's OnAttempt hook: the metrics count each
// recorded attempt, then the live tail offers it to whoever watches (the
// dashboard's live tail, `hookline tail`).
func (o *observer) attemptHook(tail *app.Tail) func(delivery.Result) {
	return func(r delivery.Result) {
		o.metrics.Attempt(r.Completion)
		tail.OnAttempt(r)
	}
}

// dashboard makes the dashboard over the application layer, signing
// people in with the API's key check, and starts the observer's
// background work.
func (o *observer) dashboard(application *app.App, checkKey func(string) bool) *dashboard.Dashboard {
	dash := dashboard.New(dashboard.Config{
		App: application, CheckKey: checkKey, Secure: o.cfg.Inbound.scheme() == "https", Logger: o.log,
	})
	go o.background(application)
	return dash
}

// background samples the backlog once a minute for the overview's charts,
// prunes aggregates older than a week and dashboard sessions that expired
// or signed in with another admin key once an hour (and at start, so that
// a changed key clears its predecessor's sessions at once), until the
// server stops.
func (o *observer) background(application *app.App) {
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
		if n, err := application.PurgeSessions(ctx); err != nil && o.ctx.Err() == nil {
			o.log.Warn("purging dashboard sessions", "err", err)
		} else if n > 0 {
			o.log.Info("purged dashboard sessions expired or signed in with another admin key", "sessions", n)
		}
	}
	sample()
	prune()
	minute := time.NewTicker(time.Minute)
	defer minute.Stop()
	for n := 1; ; n++ {
		select {
		case <-o.ctx.Done():
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
