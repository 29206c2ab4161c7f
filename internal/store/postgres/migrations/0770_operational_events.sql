-- Operational events (hookline.delivery.failing, hookline.endpoint.disabled,
-- …) recorded in the transaction that made the change they report, until a
-- node publishes them. key is the Idempotency-Key they are published under,
-- random so that no publisher can take it first.
CREATE TABLE operational_events (
	seq                  bigserial PRIMARY KEY,
	key                  text NOT NULL DEFAULT ('hookline_op_' || md5(random()::text || clock_timestamp()::text)),
	type                 text NOT NULL,
	endpoint_id          text NOT NULL,
	endpoint_url         text NOT NULL,
	endpoint_description text NOT NULL,
	tenant               text NOT NULL,
	event_id             text NOT NULL,
	has_attempt          boolean NOT NULL,
	attempt_status       integer NOT NULL,
	attempt_error        text NOT NULL,
	attempt_error_kind   text NOT NULL,
	reason               text NOT NULL,
	created              timestamptz NOT NULL
);
