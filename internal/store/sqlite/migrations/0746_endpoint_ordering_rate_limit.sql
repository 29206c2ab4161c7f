-- An endpoint's ordering ('fifo' or '' for unordered) and rate limit
-- (0: none; burst 0: one second's worth), and the index a FIFO claim
-- finds an endpoint's oldest pending delivery through, in publish order
-- (issue 18). Rate buckets live in the process's memory: a SQLite
-- database has one.
ALTER TABLE endpoints ADD COLUMN ordering TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN rate_per_second REAL NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN rate_burst INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_endpoint_order ON deliveries (endpoint_id, created, id) WHERE status = 'pending';
