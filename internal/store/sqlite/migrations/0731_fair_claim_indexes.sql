-- The indexes a fair claim reads (issue 18): each endpoint's due deliveries,
-- oldest first, and the leased deliveries by endpoint, so that a claim
-- counts those of other owners (a process that stopped without giving its
-- leases back) against the endpoint's cap.
CREATE INDEX deliveries_endpoint_ready ON deliveries (endpoint_id, ready_at) WHERE status = 'pending';
CREATE INDEX deliveries_leased ON deliveries (endpoint_id) WHERE lease_owner <> '';
