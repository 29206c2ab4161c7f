-- Retention purges the oldest events first, and idempotency keys past the
-- retention; both indexes grow at their right edge only, since rows arrive
-- in time order, so they cost publish little.
CREATE INDEX events_created ON events (created);
CREATE INDEX idempotency_keys_published ON idempotency_keys (published);

-- Jobs that run on a timer once across the cluster (retention, disabling
-- failing endpoints): a node runs one only after claiming its row for the
-- period (Store.ClaimRun).
CREATE TABLE cluster_jobs (
	name     text PRIMARY KEY,
	owner    text NOT NULL,
	last_run timestamptz NOT NULL
);
