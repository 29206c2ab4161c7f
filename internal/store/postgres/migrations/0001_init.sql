-- Times are timestamptz at millisecond precision (the store truncates, as
-- the SQLite store does); NULL stands for the zero time.

CREATE TABLE endpoints (
	id                      text PRIMARY KEY,
	url                     text NOT NULL,
	enabled_events          text[] NOT NULL,
	description             text NOT NULL,
	metadata                jsonb NOT NULL,
	tenant                  text NOT NULL,
	status                  text NOT NULL,
	disabled_reason         text NOT NULL,
	signature_scheme        text NOT NULL,
	secret                  text NOT NULL,
	previous_secret         text NOT NULL,
	previous_secret_expires timestamptz,
	failing_since           timestamptz,
	created                 timestamptz NOT NULL,
	updated                 timestamptz NOT NULL
);

CREATE INDEX endpoints_tenant ON endpoints (tenant, id);
-- Publish fans out with enabled_events @> ARRAY[pattern], one pattern per
-- way a type can be matched ("*", the type, each "prefix.*").
CREATE INDEX endpoints_enabled_events ON endpoints USING gin (enabled_events) WHERE status = 'enabled';

CREATE TABLE events (
	id              text PRIMARY KEY,
	type            text NOT NULL,
	created         timestamptz NOT NULL,
	tenant          text NOT NULL,
	payload         bytea NOT NULL, -- bytes, not jsonb: delivered exactly as published
	idempotency_key text NOT NULL
);

CREATE INDEX events_type ON events (type, id);
CREATE INDEX events_tenant ON events (tenant, id);

-- The last event published with each key, and when. The primary key makes
-- two nodes publishing the same key at once serialise on it.
CREATE TABLE idempotency_keys (
	key       text PRIMARY KEY,
	event_id  text NOT NULL,
	published timestamptz NOT NULL
);

-- No foreign keys: deliveries outlive their endpoint (as canceled), and the
-- checks would cost a lookup per row on the hot path.
CREATE TABLE deliveries (
	id              text PRIMARY KEY,
	event_id        text NOT NULL,
	endpoint_id     text NOT NULL,
	status          text NOT NULL,
	attempts        integer NOT NULL,
	next_attempt_at timestamptz, -- NULL once the delivery is finished
	lease_owner     text NOT NULL,
	lease_expires   timestamptz,
	-- When the delivery can next be claimed: next_attempt_at, or the lease's
	-- expiry while it is leased, so that claims skip deliveries in flight
	-- without scanning them.
	ready_at        timestamptz,
	-- Whether the endpoint is disabled, kept in step by every write that
	-- changes an endpoint's status, so that claims skip a disabled
	-- endpoint's backlog without scanning it.
	paused          boolean NOT NULL,
	created         timestamptz NOT NULL,
	updated         timestamptz NOT NULL
);

CREATE UNIQUE INDEX deliveries_event_endpoint ON deliveries (event_id, endpoint_id);
CREATE INDEX deliveries_ready ON deliveries (ready_at) WHERE status = 'pending' AND NOT paused;
CREATE INDEX deliveries_endpoint_pending ON deliveries (endpoint_id) WHERE status = 'pending';
CREATE INDEX deliveries_lease_owner ON deliveries (lease_owner) WHERE lease_owner <> '';

CREATE TABLE attempts (
	id              text PRIMARY KEY,
	delivery_id     text NOT NULL,
	event_id        text NOT NULL,
	endpoint_id     text NOT NULL,
	attempt         integer NOT NULL,
	created         timestamptz NOT NULL,
	url             text NOT NULL,
	response_status integer NOT NULL,
	duration_ms     bigint NOT NULL,
	error           text NOT NULL,
	-- bytea: a response body may hold bytes that are not UTF-8, or NUL,
	-- which a text column refuses.
	response_body   bytea NOT NULL,
	next_retry      timestamptz
);

CREATE INDEX attempts_event ON attempts (event_id, id);
CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);

CREATE TABLE settings (
	name  text PRIMARY KEY,
	value text NOT NULL
);
