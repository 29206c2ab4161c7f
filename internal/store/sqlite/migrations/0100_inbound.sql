-- Inbound: sources, their connections and the requests they captured.
-- Request deliveries live in deliveries (event_id = request id, endpoint_id
-- = connection id) so the delivery engine handles them like event deliveries.

CREATE TABLE sources (
	id       TEXT PRIMARY KEY,
	name     TEXT NOT NULL UNIQUE,
	type     TEXT NOT NULL,
	secret   TEXT NOT NULL,
	options  TEXT NOT NULL, -- JSON object
	response TEXT NOT NULL, -- JSON object
	created  INTEGER NOT NULL,
	updated  INTEGER NOT NULL
) STRICT;

CREATE TABLE connections (
	id        TEXT PRIMARY KEY,
	source_id TEXT NOT NULL,
	url       TEXT NOT NULL,
	filter    TEXT NOT NULL, -- JSON, '' for none
	created   INTEGER NOT NULL,
	updated   INTEGER NOT NULL
) STRICT;

CREATE INDEX connections_source ON connections (source_id, id);

CREATE TABLE inbound_requests (
	id          TEXT PRIMARY KEY,
	source_id   TEXT NOT NULL,
	method      TEXT NOT NULL,
	path        TEXT NOT NULL,
	query       TEXT NOT NULL,
	headers     TEXT NOT NULL, -- JSON object of arrays
	body        BLOB NOT NULL, -- the bytes as received
	remote_addr TEXT NOT NULL,
	received    INTEGER NOT NULL,
	status      TEXT NOT NULL,
	reason      TEXT NOT NULL,
	dedupe_key  TEXT NOT NULL,
	replay_of   TEXT NOT NULL
) STRICT;

CREATE INDEX inbound_requests_source ON inbound_requests (source_id, id);

-- The last request forwarded with each provider delivery id, per source.
CREATE TABLE inbound_dedupe (
	source_id  TEXT NOT NULL,
	key        TEXT NOT NULL,
	request_id TEXT NOT NULL,
	received   INTEGER NOT NULL,
	PRIMARY KEY (source_id, key)
) STRICT;
