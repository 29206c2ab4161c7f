-- An endpoint's filter (its JSON as given; '' for none), static headers and
-- retry schedule (milliseconds before each retry; NULL for the server's).
ALTER TABLE endpoints ADD COLUMN filter text NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN headers jsonb NOT NULL DEFAULT '{}';
ALTER TABLE endpoints ADD COLUMN retry_schedule bigint[];
