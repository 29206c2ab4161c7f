-- Per-minute aggregates of attempts for the dashboard and per-endpoint
-- health, written in CompleteTasks's transaction. endpoint_id '' holds the
-- total over every endpoint, so the overview reads one row per minute.
-- h0…h11 count attempts per latency bucket (hookline.LatencyBounds).
-- Each transaction writes to one of a few shards of a row, picked at
-- random, so completions on several nodes do not queue behind one row
-- lock (the total row of the current minute would otherwise be a hot spot);
-- reads sum the shards.
CREATE TABLE attempt_stats (
	endpoint_id text NOT NULL,
	minute      bigint NOT NULL, -- unix minutes
	shard       smallint NOT NULL,
	attempts    bigint NOT NULL,
	successes   bigint NOT NULL,
	failures    bigint NOT NULL,
	latency_ms  bigint NOT NULL,
	h0 bigint NOT NULL,
	h1 bigint NOT NULL,
	h2 bigint NOT NULL,
	h3 bigint NOT NULL,
	h4 bigint NOT NULL,
	h5 bigint NOT NULL,
	h6 bigint NOT NULL,
	h7 bigint NOT NULL,
	h8 bigint NOT NULL,
	h9 bigint NOT NULL,
	h10 bigint NOT NULL,
	h11 bigint NOT NULL,
	PRIMARY KEY (endpoint_id, minute, shard)
);

-- One backlog sample per minute, taken by the dashboard's sampler.
CREATE TABLE backlog_samples (
	minute        bigint PRIMARY KEY,
	pending       bigint NOT NULL,
	oldest_age_ms bigint NOT NULL
);

-- Bulk resend walks an endpoint's failed deliveries. Partial, so that only
-- deliveries entering or leaving 'failed' pay for it, not the hot path.
CREATE INDEX deliveries_failed ON deliveries (endpoint_id, id) WHERE status = 'failed';
