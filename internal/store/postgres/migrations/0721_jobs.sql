-- Background jobs (recover): their progress lives here so that any node can
-- report it and a restart resumes the job from cursor.
CREATE TABLE jobs (
	id            text PRIMARY KEY,
	kind          text NOT NULL,
	endpoint_id   text NOT NULL,
	since         timestamptz NOT NULL,
	until         timestamptz NOT NULL,
	status        text NOT NULL,
	total         integer NOT NULL,
	done          integer NOT NULL,
	cursor        text NOT NULL,
	error         text NOT NULL,
	lease_owner   text NOT NULL,
	lease_expires timestamptz,
	created       timestamptz NOT NULL,
	updated       timestamptz NOT NULL
);

CREATE INDEX jobs_unfinished ON jobs (id) WHERE status IN ('pending', 'running');
