-- An endpoint's cap on deliveries leased at a time and its attempt timeout
-- (0: the server's) (issue 18).
ALTER TABLE endpoints ADD COLUMN max_concurrency INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN timeout_ms INTEGER NOT NULL DEFAULT 0;
