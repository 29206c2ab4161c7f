-- An endpoint's circuit breaker (issue 18): the consecutive failures that
-- open it (0: the server's), and its state, written by the transaction
-- that records attempts: closed or open, the failures in a row, when it
-- opened, when the probe may go and the current cool-down (ms).
ALTER TABLE endpoints ADD COLUMN breaker_failures integer NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN circuit_state text NOT NULL DEFAULT 'closed';
ALTER TABLE endpoints ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN circuit_opened_at timestamptz;
ALTER TABLE endpoints ADD COLUMN circuit_next_probe_at timestamptz;
ALTER TABLE endpoints ADD COLUMN circuit_cooldown_ms bigint NOT NULL DEFAULT 0;
