-- Why an attempt got no answer, in one word (hookline.Attempt.ErrorKind:
-- refused, timeout, tls, dns, unreachable, closed, canceled, error), decided
-- from the error itself when the attempt is made (issue 16, item 12); ''
-- when the endpoint answered. Older attempts get theirs from the text the
-- engine wrote (lower(): LIKE ignores case in SQLite but not in PostgreSQL).
ALTER TABLE attempts ADD COLUMN error_kind TEXT NOT NULL DEFAULT '';
UPDATE attempts SET error_kind = CASE
		WHEN lower(error) LIKE 'timed out%' OR lower(error) LIKE '%i/o timeout%'
			OR lower(error) LIKE '%did not answer within%' THEN 'timeout' -- a slow app behind hookline listen
		WHEN lower(error) LIKE 'canceled%' THEN 'canceled'
		WHEN lower(error) LIKE '%connection refused%' THEN 'refused'
		WHEN lower(error) LIKE '%no such host%' OR lower(error) LIKE '%server misbehaving%' THEN 'dns'
		WHEN lower(error) LIKE '%no route to host%' OR lower(error) LIKE '%network is unreachable%' THEN 'unreachable'
		WHEN lower(error) LIKE '%tls:%' OR lower(error) LIKE '%x509:%' THEN 'tls'
		WHEN lower(error) LIKE '%closed the connection%' OR lower(error) LIKE '%connection reset%' OR lower(error) LIKE '%broken pipe%' THEN 'closed'
		ELSE 'error'
	END
	WHERE response_status = 0 AND error <> '';
