-- Times are unix milliseconds; 0 stands for the zero time.

CREATE TABLE endpoints (
	id                      TEXT PRIMARY KEY,
	url                     TEXT NOT NULL,
	enabled_events          TEXT NOT NULL, -- JSON array
	description             TEXT NOT NULL,
	metadata                TEXT NOT NULL, -- JSON object
	tenant                  TEXT NOT NULL,
	status                  TEXT NOT NULL,
	disabled_reason         TEXT NOT NULL,
	signature_scheme        TEXT NOT NULL,
	secret                  TEXT NOT NULL,
	previous_secret         TEXT NOT NULL,
	previous_secret_expires INTEGER NOT NULL,
	failing_since           INTEGER NOT NULL,
	created                 INTEGER NOT NULL,
	updated                 INTEGER NOT NULL
) STRICT;

CREATE INDEX endpoints_tenant ON endpoints (tenant, id);

CREATE TABLE events (
	id              TEXT PRIMARY KEY,
	type            TEXT NOT NULL,
	created         INTEGER NOT NULL,
	tenant          TEXT NOT NULL,
	payload         BLOB NOT NULL,
	idempotency_key TEXT NOT NULL
) STRICT;

CREATE INDEX events_type ON events (type, id);
CREATE INDEX events_tenant ON events (tenant, id);

-- The last event published with each key, and when: a key is a duplicate
-- only within the publisher's window, so an expired row is overwritten.
CREATE TABLE idempotency_keys (
	key       TEXT PRIMARY KEY,
	event_id  TEXT NOT NULL,
	published INTEGER NOT NULL
) STRICT;

-- No foreign keys: deliveries outlive their endpoint (as canceled) and the
-- store code keeps the references straight, so the checks would only cost.
CREATE TABLE deliveries (
	id              TEXT PRIMARY KEY,
	event_id        TEXT NOT NULL,
	endpoint_id     TEXT NOT NULL,
	status          TEXT NOT NULL,
	attempts        INTEGER NOT NULL,
	next_attempt_at INTEGER NOT NULL,
	lease_owner     TEXT NOT NULL,
	lease_expires   INTEGER NOT NULL,
	-- When the delivery can next be claimed: next_attempt_at, or the lease's
	-- expiry while it is leased. Claims scan this alone, so deliveries in
	-- flight do not slow them down.
	ready_at        INTEGER NOT NULL,
	created         INTEGER NOT NULL,
	updated         INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX deliveries_event_endpoint ON deliveries (event_id, endpoint_id);
CREATE INDEX deliveries_ready ON deliveries (ready_at) WHERE status = 'pending';
-- Deleting an endpoint and releasing an owner's leases find their rows
-- through deliveries_ready (they are all pending): both are rare, and an index
-- of their own would cost every publish, claim and completion.

CREATE TABLE attempts (
	id              TEXT PRIMARY KEY,
	delivery_id     TEXT NOT NULL,
	event_id        TEXT NOT NULL,
	endpoint_id     TEXT NOT NULL,
	attempt         INTEGER NOT NULL,
	created         INTEGER NOT NULL,
	url             TEXT NOT NULL,
	response_status INTEGER NOT NULL,
	duration_ms     INTEGER NOT NULL,
	error           TEXT NOT NULL,
	response_body   TEXT NOT NULL,
	next_retry      INTEGER NOT NULL
) STRICT;

CREATE INDEX attempts_event ON attempts (event_id, id);
CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);

CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;
