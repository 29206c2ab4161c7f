-- An endpoint's cap on deliveries leased at a time and its attempt timeout
-- (0: the server's), and the index a fair claim reads each endpoint's due
-- deliveries through, oldest first; it serves every use of the narrower
-- deliveries_endpoint_pending (issue 18).
ALTER TABLE endpoints ADD COLUMN max_concurrency integer NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN timeout_ms bigint NOT NULL DEFAULT 0;
CREATE INDEX deliveries_endpoint_ready ON deliveries (endpoint_id, ready_at) WHERE status = 'pending';
DROP INDEX deliveries_endpoint_pending;
