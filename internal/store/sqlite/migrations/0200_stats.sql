-- Per-minute aggregates of attempts for the dashboard and per-endpoint
-- health, written in CompleteTasks's transaction. endpoint_id '' holds the
-- total over every endpoint, so the overview reads one row per minute.
-- h0…h11 count attempts per latency bucket (hookline.LatencyBounds).
CREATE TABLE attempt_stats (
	endpoint_id TEXT NOT NULL,
	minute      INTEGER NOT NULL, -- unix minutes
	attempts    INTEGER NOT NULL,
	successes   INTEGER NOT NULL,
	failures    INTEGER NOT NULL,
	latency_ms  INTEGER NOT NULL,
	h0 INTEGER NOT NULL,
	h1 INTEGER NOT NULL,
	h2 INTEGER NOT NULL,
	h3 INTEGER NOT NULL,
	h4 INTEGER NOT NULL,
	h5 INTEGER NOT NULL,
	h6 INTEGER NOT NULL,
	h7 INTEGER NOT NULL,
	h8 INTEGER NOT NULL,
	h9 INTEGER NOT NULL,
	h10 INTEGER NOT NULL,
	h11 INTEGER NOT NULL,
	PRIMARY KEY (endpoint_id, minute)
) STRICT, WITHOUT ROWID;

-- One backlog sample per minute, taken by the dashboard's sampler.
CREATE TABLE backlog_samples (
	minute        INTEGER PRIMARY KEY,
	pending       INTEGER NOT NULL,
	oldest_age_ms INTEGER NOT NULL
) STRICT;

-- Bulk resend walks an endpoint's failed deliveries. Partial, so that only
-- deliveries entering or leaving 'failed' pay for it, not the hot path.
CREATE INDEX deliveries_failed ON deliveries (endpoint_id, id) WHERE status = 'failed';
