-- Background jobs (recover): their progress lives here so that any node can
-- report it and a restart resumes the job from cursor.
CREATE TABLE jobs (
	id            TEXT PRIMARY KEY,
	kind          TEXT NOT NULL,
	endpoint_id   TEXT NOT NULL,
	since         INTEGER NOT NULL,
	until         INTEGER NOT NULL,
	status        TEXT NOT NULL,
	total         INTEGER NOT NULL,
	done          INTEGER NOT NULL,
	cursor        TEXT NOT NULL,
	error         TEXT NOT NULL,
	lease_owner   TEXT NOT NULL,
	lease_expires INTEGER NOT NULL,
	created       INTEGER NOT NULL,
	updated       INTEGER NOT NULL
) STRICT;

CREATE INDEX jobs_unfinished ON jobs (id) WHERE status IN ('pending', 'running');
