// Package storetest is the conformance suite of hookline.Store: Run (and
// RunSecrets for sealing at rest) pins the behaviour both stores must
// share — publishing with idempotency keys, claiming and leases,
// completion and retries, endpoints and their options, inbound sources and
// capture, jobs, retention, statistics — and Bench measures them alike.
// internal/store/sqlite and internal/store/postgres each run it from their
// tests against a fresh store per subtest. It is imported by tests only.
package storetest
