-- An endpoint's ordering ('fifo' or '' for unordered) and rate limit
-- (0: none; burst 0: one second's worth), the index a FIFO claim finds an
-- endpoint's oldest pending delivery through, in publish order, and the
-- pacing state claims share across nodes: each paced endpoint's token
-- bucket and the hold a 429's Retry-After puts on it (issue 18).
ALTER TABLE endpoints ADD COLUMN ordering text NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN rate_per_second double precision NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN rate_burst integer NOT NULL DEFAULT 0;
CREATE INDEX deliveries_endpoint_order ON deliveries (endpoint_id, created, id) WHERE status = 'pending';
CREATE TABLE endpoint_buckets (
	endpoint_id text PRIMARY KEY REFERENCES endpoints (id) ON DELETE CASCADE,
	tokens double precision NOT NULL DEFAULT 0,
	at timestamptz,
	hold_until timestamptz
);
