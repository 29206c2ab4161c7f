package metrics

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookline/hookline/internal/hookline"
)

// Outcomes of an attempt, the "outcome" label of
// hookline_deliveries_total.
const (
	OutcomeSucceeded = "succeeded" // 2xx
	OutcomeRetrying  = "retrying"  // failed; a retry is scheduled
	OutcomeFailed    = "failed"    // failed for good (schedule ran out, or 410)
)

// Config is what Metrics reads from the rest of Hookline.
type Config struct {
	// Backlog reports the pending work; it is called at most once per
	// CacheFor, on scrape.
	Backlog func(ctx context.Context) (hookline.Backlog, error)
	// Endpoints counts endpoints by status (enabled, disabled), and by
	// circuit state under the keys CircuitKey(state); called at most once
	// per CacheFor, on scrape. Optional.
	Endpoints func(ctx context.Context) (map[string]int, error)
	// BackgroundFailures counts the store's failed background writes
	// (hookline.BackgroundWriter), read at every scrape. Optional.
	BackgroundFailures func() int64
	// CacheFor is how long a scrape reuses the store's answers (5 s), so
	// that a burst of scrapes costs one query.
	CacheFor time.Duration
	Now      func() time.Time
}

// Metrics holds one server's collectors. Its methods are safe for
// concurrent use and never block.
type Metrics struct {
	reg        *prometheus.Registry
	deliveries *prometheus.CounterVec
	latency    prometheus.Histogram
	published  prometheus.Counter
	retries    prometheus.Counter
	gone       prometheus.Counter
	opens      prometheus.Counter
	// inbound counts requests received at sources, by source and verdict.
	inbound *prometheus.CounterVec
	handler http.Handler
}

// InboundRequest counts one inbound request to source and what was decided
// about it. It is safe for concurrent use. Keep verdicts to a small fixed
// set: each distinct value is a time series.
func (m *Metrics) InboundRequest(source, verdict string) {
	m.inbound.WithLabelValues(source, verdict).Inc()
}

// New returns the metrics of one server, registered in a registry of its
// own along with the Go runtime and process collectors.
func New(cfg Config) *Metrics {
	if cfg.CacheFor <= 0 {
		cfg.CacheFor = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	buckets := make([]float64, len(hookline.LatencyBounds))
	for i, b := range hookline.LatencyBounds {
		buckets[i] = float64(b) / 1000
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_deliveries_total",
			Help: "Delivery attempts recorded, by outcome (succeeded, retrying, failed) and response status class (2xx…5xx, or none without a response).",
		}, []string{"outcome", "status_class"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hookline_delivery_duration_seconds",
			Help:    "Duration of delivery attempts, from connecting to the last byte of the response.",
			Buckets: buckets,
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_events_published_total",
			Help: "Events accepted by the publish API (idempotent replays excluded).",
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_retries_scheduled_total",
			Help: "Failed attempts after which a retry was scheduled.",
		}),
		gone: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_endpoints_disabled_total",
			Help: "Endpoints disabled by a delivery (the receiver answered 410 Gone).",
		}),
		opens: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_circuit_opens_total",
			Help: "Circuits this node's completions opened: after consecutive failures, or again when a probe failed.",
		}),
		inbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_inbound_requests_total",
			Help: "Provider webhook requests received, by source and verdict: " + hookline.RequestAccepted + ", " +
				hookline.RequestRejected + " (failed verification) or " + hookline.RequestDuplicate + " (a provider delivery id already seen).",
		}, []string{"source", "verdict"}),
	}
	m.reg.MustRegister(m.deliveries, m.latency, m.published, m.retries, m.gone, m.opens, m.inbound,
		&storeCollector{cfg: cfg},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler { return m.handler }

// ServeHTTP serves the metrics in Prometheus' text format.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }

// Attempt counts one recorded attempt. The engine's OnAttempt hook calls it.
func (m *Metrics) Attempt(c hookline.Completion) {
	a := &c.Attempt
	outcome := OutcomeFailed
	switch {
	case a.Succeeded():
		outcome = OutcomeSucceeded
	case c.Status == hookline.DeliveryPending:
		outcome = OutcomeRetrying
		m.retries.Inc()
	}
	if c.DisableEndpoint != "" {
		m.gone.Inc()
	}
	if b := c.Breaker; b != nil && (b.Transition == hookline.TransitionOpened || b.Transition == hookline.TransitionReopened) {
		m.opens.Inc()
	}
	m.deliveries.WithLabelValues(outcome, StatusClass(a.ResponseStatus)).Inc()
	m.latency.Observe(float64(a.DurationMS) / 1000)
}

// Published counts n events accepted for publishing.
func (m *Metrics) Published(n int) {
	m.published.Add(float64(n))
}

// StatusClass is "2xx" … "5xx" for an HTTP status, "none" for 0 (no
// response) and "other" for anything else.
func StatusClass(status int) string {
	switch {
	case status == 0:
		return "none"
	case status >= 100 && status < 600:
		return string(rune('0'+status/100)) + "xx"
	default:
		return "other"
	}
}

// storeCollector reports what only the store knows, caching the answers
// for cfg.CacheFor so that scrapes stay cheap on a large store.
type storeCollector struct {
	cfg Config

	mu        sync.Mutex
	at        time.Time
	backlog   hookline.Backlog
	backlogOK bool
	endpoints map[string]int
}

var (
	backlogDesc = prometheus.NewDesc("hookline_backlog_deliveries",
		"Pending deliveries: waiting for their first attempt, a retry, or in flight; those to a disabled endpoint count too, until it is enabled again or deleted.", nil, nil)
	oldestDesc = prometheus.NewDesc("hookline_backlog_oldest_age_seconds",
		"How long the oldest pending delivery has waited since it was created or resent, whether due, in flight or waiting for a retry (0 when nothing is pending). Deliveries to a disabled endpoint stay pending and count, so after an endpoint is disabled this age grows until it is enabled again or deleted.", nil, nil)
	flushErrorsDesc = prometheus.NewDesc("hookline_store_flush_errors_total",
		"Background writes of the store that failed: flushes of the SQLite journal into the database.", nil, nil)
	endpointsDesc = prometheus.NewDesc("hookline_endpoints",
		"Endpoints by status (enabled, disabled).", []string{"status"}, nil)
	circuitsDesc = prometheus.NewDesc("hookline_endpoints_circuit",
		"Endpoints by circuit state (closed, open, half_open).", []string{"state"}, nil)
)

// CircuitKey is the key of Config.Endpoints' count of endpoints whose
// circuit is in state.
func CircuitKey(state string) string { return "circuit:" + state }

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- backlogDesc
	ch <- oldestDesc
	ch <- endpointsDesc
	ch <- circuitsDesc
	ch <- flushErrorsDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	if c.at.IsZero() || now.Sub(c.at) >= c.cfg.CacheFor {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		b, err := c.cfg.Backlog(ctx)
		c.backlog, c.backlogOK = b, err == nil
		if c.cfg.Endpoints != nil {
			if eps, err := c.cfg.Endpoints(ctx); err == nil {
				c.endpoints = eps
			}
		}
		c.at = now
	}
	if c.cfg.BackgroundFailures != nil {
		ch <- prometheus.MustNewConstMetric(flushErrorsDesc, prometheus.CounterValue, float64(c.cfg.BackgroundFailures()))
	}
	if c.backlogOK {
		ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(c.backlog.Pending))
		// The cached sample keeps when the oldest was created, so its age
		// is as fresh as the scrape.
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, c.backlog.OldestAge(now).Seconds())
	}
	for _, status := range []string{hookline.EndpointEnabled, hookline.EndpointDisabled} {
		if c.endpoints != nil {
			ch <- prometheus.MustNewConstMetric(endpointsDesc, prometheus.GaugeValue, float64(c.endpoints[status]), status)
		}
	}
	for _, state := range []string{hookline.CircuitClosed, hookline.CircuitOpen, hookline.CircuitHalfOpen} {
		if c.endpoints != nil {
			ch <- prometheus.MustNewConstMetric(circuitsDesc, prometheus.GaugeValue, float64(c.endpoints[CircuitKey(state)]), state)
		}
	}
}
