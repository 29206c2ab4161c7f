// Package metrics owns Hookline's Prometheus metrics: what the delivery
// engine, the publish path and the inbound receivers count, and the
// `GET /metrics` handler that exposes them with the official client
// (github.com/prometheus/client_golang). No third-party type leaves the
// package: callers see Metrics, its methods and an http.Handler.
//
// /metrics is served without authentication, as Prometheus expects. It
// exposes counts and ages only — no endpoint URLs, ids, payloads or
// secrets — so its labels stay low-cardinality and harmless.
package metrics
