-- Dashboard sessions live server-side (issue 20, finding 6), so that
-- signing out, a changed admin key or expiry ends them. id_hash is the
-- SHA-256 of the token in the browser's cookie, never the token itself;
-- key_id names the admin key the session signed in with. They replace the
-- key that signed stateless cookies, which nothing reads any more.
CREATE TABLE dashboard_sessions (
	id_hash text PRIMARY KEY,
	key_id  text NOT NULL,
	created timestamptz NOT NULL,
	expires timestamptz NOT NULL
);

CREATE INDEX dashboard_sessions_expires ON dashboard_sessions (expires);

DELETE FROM settings WHERE name = 'dashboard_session_key';
