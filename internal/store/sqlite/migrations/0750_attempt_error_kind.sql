-- Why an attempt got no answer, in one word (hookline.Attempt.ErrorKind:
-- refused, timeout, tls, dns, unreachable, closed, canceled, error), decided
-- from the error itself when the attempt is made (issue 16, item 12); ''
-- when the endpoint answered. Older attempts get theirs from the text the
-- engine wrote.
ALTER TABLE attempts ADD COLUMN error_kind TEXT NOT NULL DEFAULT '';
UPDATE attempts SET error_kind = CASE
		WHEN error LIKE 'timed out%' OR error LIKE '%i/o timeout%' THEN 'timeout'
		WHEN error LIKE 'canceled%' THEN 'canceled'
		WHEN error LIKE '%connection refused%' THEN 'refused'
		WHEN error LIKE '%no such host%' OR error LIKE '%server misbehaving%' THEN 'dns'
		WHEN error LIKE '%no route to host%' OR error LIKE '%network is unreachable%' THEN 'unreachable'
		WHEN error LIKE '%tls:%' OR error LIKE '%x509:%' THEN 'tls'
		WHEN error LIKE '%closed the connection%' OR error LIKE '%connection reset%' OR error LIKE '%broken pipe%' THEN 'closed'
		ELSE 'error'
	END
	WHERE response_status = 0 AND error <> '';
