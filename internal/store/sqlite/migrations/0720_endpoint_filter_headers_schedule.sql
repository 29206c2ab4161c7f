-- An endpoint's filter (its JSON as given; '' for none), static headers
-- (a JSON object) and retry schedule (a JSON array of milliseconds; '' for
-- the server's).
ALTER TABLE endpoints ADD COLUMN filter TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN headers TEXT NOT NULL DEFAULT '{}';
ALTER TABLE endpoints ADD COLUMN retry_schedule TEXT NOT NULL DEFAULT '';
