-- Sources bound what strangers can make them store (issue 20): limits is
-- the JSON of hookline.SourceLimits. A rejected request keeps only the
-- first 64 KiB of its body: size is the whole body's length and
-- body_sha256 its hash ('' when the body is whole). Older rows keep size 0,
-- which readers take as the length of the body they hold.
ALTER TABLE sources ADD COLUMN limits TEXT NOT NULL DEFAULT '{}';
ALTER TABLE inbound_requests ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inbound_requests ADD COLUMN body_sha256 TEXT NOT NULL DEFAULT '';
