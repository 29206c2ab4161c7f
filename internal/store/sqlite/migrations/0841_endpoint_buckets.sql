-- Rate-limit token buckets and the holds a 429's Retry-After puts on an
-- endpoint survive a restart, as they do in PostgreSQL's endpoint_buckets
-- (issue 18): a restarted node neither bursts a limited endpoint past its
-- rate nor sends to one that asked it to wait. The store keeps them in
-- memory too and writes a row only for an endpoint with a rate limit or a
-- hold; times are Unix milliseconds (NULL: never).
CREATE TABLE endpoint_buckets (
	endpoint_id TEXT PRIMARY KEY,
	tokens      REAL NOT NULL DEFAULT 0,
	at          INTEGER,
	hold_until  INTEGER
) STRICT;
