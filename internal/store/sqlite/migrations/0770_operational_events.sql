-- Operational events (hookline.delivery.failing, hookline.endpoint.disabled,
-- …) recorded in the transaction that made the change they report, until a
-- node publishes them. key is the Idempotency-Key they are published under,
-- random so that no publisher can take it first.
CREATE TABLE operational_events (
	seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
	key                  TEXT NOT NULL DEFAULT ('hookline_op_' || lower(hex(randomblob(12)))),
	type                 TEXT NOT NULL,
	endpoint_id          TEXT NOT NULL,
	endpoint_url         TEXT NOT NULL,
	endpoint_description TEXT NOT NULL,
	tenant               TEXT NOT NULL,
	event_id             TEXT NOT NULL,
	has_attempt          INTEGER NOT NULL,
	attempt_status       INTEGER NOT NULL,
	attempt_error        TEXT NOT NULL,
	attempt_error_kind   TEXT NOT NULL,
	reason               TEXT NOT NULL,
	created              INTEGER NOT NULL
) STRICT;
