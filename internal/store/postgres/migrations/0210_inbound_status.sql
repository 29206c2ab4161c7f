-- The dashboard's requests list filters by status, alone or with a source,
-- newest first: without these a rare status (rejected, duplicate) would
-- scan every request to fill a page.
CREATE INDEX IF NOT EXISTS inbound_requests_status ON inbound_requests (status, id);
CREATE INDEX IF NOT EXISTS inbound_requests_source_status ON inbound_requests (source_id, status, id);
