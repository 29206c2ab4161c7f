-- When a pending delivery started waiting, for the backlog's oldest-pending
-- age (issue 16, item 10): NULL while that is when it was created, set when
-- a resend or a recover puts a finished delivery back to pending, so that
-- the age does not jump to the delivery's original age. The index holds
-- only pending deliveries, in waiting order: the oldest is its first entry,
-- not a scan of every pending row.
ALTER TABLE deliveries ADD COLUMN pending_since timestamptz;
CREATE INDEX deliveries_pending_since ON deliveries (COALESCE(pending_since, created)) WHERE status = 'pending';
