-- Retention purges the oldest events first, and idempotency keys past the
-- retention; both indexes grow at their right edge only, since rows arrive
-- in time order.
CREATE INDEX events_created ON events (created);
CREATE INDEX idempotency_keys_published ON idempotency_keys (published);
