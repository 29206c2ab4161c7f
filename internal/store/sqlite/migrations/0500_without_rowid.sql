-- Deliveries and attempts are looked up by their text ids alone, and their
-- rows are small: keyed by id directly (WITHOUT ROWID) each insert writes
-- one b-tree fewer than a rowid table with an index on id beside it, on the
-- hottest path there is (every publish writes a delivery, every attempt a
-- row). Events keep their rowid: payloads can be large, and a WITHOUT ROWID
-- row of more than about a kilobyte spills to overflow pages. An attempt
-- that kept a long response body (up to 4 KB) spills too; most answers to a
-- webhook are short, and a failing endpoint's are retried minutes apart.

CREATE TABLE deliveries_new (
	id              TEXT NOT NULL PRIMARY KEY,
	event_id        TEXT NOT NULL,
	endpoint_id     TEXT NOT NULL,
	status          TEXT NOT NULL,
	attempts        INTEGER NOT NULL,
	next_attempt_at INTEGER NOT NULL,
	lease_owner     TEXT NOT NULL,
	lease_expires   INTEGER NOT NULL,
	ready_at        INTEGER NOT NULL,
	created         INTEGER NOT NULL,
	updated         INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO deliveries_new SELECT id, event_id, endpoint_id, status, attempts, next_attempt_at, lease_owner,
	lease_expires, ready_at, created, updated FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE UNIQUE INDEX deliveries_event_endpoint ON deliveries (event_id, endpoint_id);
CREATE INDEX deliveries_ready ON deliveries (ready_at) WHERE status = 'pending';
CREATE INDEX deliveries_failed ON deliveries (endpoint_id, id) WHERE status = 'failed';

CREATE TABLE attempts_new (
	id              TEXT NOT NULL PRIMARY KEY,
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
) STRICT, WITHOUT ROWID;
INSERT INTO attempts_new SELECT id, delivery_id, event_id, endpoint_id, attempt, created, url, response_status,
	duration_ms, error, response_body, next_retry FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_new RENAME TO attempts;
CREATE INDEX attempts_event ON attempts (event_id, id);
CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);
