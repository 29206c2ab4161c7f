-- Inbound: sources, their connections and the requests they captured.
-- Request deliveries live in deliveries (event_id = request id, endpoint_id
-- = connection id) so the delivery engine handles them like event deliveries.

CREATE TABLE sources (
	id       text PRIMARY KEY,
	name     text NOT NULL UNIQUE,
	type     text NOT NULL,
	secret   text NOT NULL,
	options  jsonb NOT NULL,
	response jsonb NOT NULL,
	created  timestamptz NOT NULL,
	updated  timestamptz NOT NULL
);

CREATE TABLE connections (
	id        text PRIMARY KEY,
	source_id text NOT NULL,
	url       text NOT NULL,
	filter    text NOT NULL, -- JSON as given, '' for none
	created   timestamptz NOT NULL,
	updated   timestamptz NOT NULL
);

CREATE INDEX connections_source ON connections (source_id, id);

CREATE TABLE inbound_requests (
	id          text PRIMARY KEY,
	source_id   text NOT NULL,
	method      text NOT NULL,
	path        text NOT NULL,
	query       text NOT NULL,
	headers     jsonb NOT NULL,
	body        bytea NOT NULL, -- the bytes as received
	remote_addr text NOT NULL,
	received    timestamptz NOT NULL,
	status      text NOT NULL,
	reason      text NOT NULL,
	dedupe_key  text NOT NULL,
	replay_of   text NOT NULL
);

CREATE INDEX inbound_requests_source ON inbound_requests (source_id, id);

-- The last request forwarded with each provider delivery id, per source.
CREATE TABLE inbound_dedupe (
	source_id  text NOT NULL,
	key        text NOT NULL,
	request_id text NOT NULL,
	received   timestamptz NOT NULL,
	PRIMARY KEY (source_id, key)
);
