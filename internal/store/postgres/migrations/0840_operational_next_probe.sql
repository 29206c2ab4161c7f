-- Issue 18: circuit_opened and circuit_closed are recorded in
-- operational_events with the circuit's transition, like the other
-- operational events, instead of published after the commit. A
-- circuit_opened event carries when the probe is due, as Unix
-- milliseconds in both stores so that the shared reading code scans one
-- type (0: no probe).
ALTER TABLE operational_events ADD COLUMN next_probe_at_ms bigint NOT NULL DEFAULT 0;
