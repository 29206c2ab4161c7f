package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/internal/store/storetest"
)

// BenchmarkPublishAtScale compares publish and claim on an empty database
// with the same after millions of old events were stored:
//
//	HOOKLINE_SEED_EVENTS=10000000 go test ./internal/store/sqlite -run '^$' -bench PublishAtScale -benchtime 1x -timeout 1h
func BenchmarkPublishAtScale(b *testing.B) {
	path := filepath.Join(b.TempDir(), "hookline.db")
	s, err := sqlite.Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("HOOKLINE_SEED_EVENTS")); err == nil && v > 0 {
		n = v
	}
	seed := func(ctx context.Context, n int) error {
		// A connection of its own; the store is idle meanwhile.
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)")
		if err != nil {
			return err
		}
		defer db.Close()
		const chunk = 1_000_000
		for from := 0; from < n; from += chunk {
			to := min(from+chunk, n)
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			// Times are unix ms, 20 days back; ids sort before new ones.
			for _, q := range []string{`
				WITH RECURSIVE g(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM g WHERE i < ?2)
				INSERT INTO events (id, type, created, tenant, payload, idempotency_key)
				SELECT printf('evt_00%022d', i), 'invoice.paid', (unixepoch() - 20*86400) * 1000 + i / 10, '',
					CAST(printf('{"id":"evt_00%022d","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1Nw","amount_due":4200,"currency":"eur"}}}', i) AS BLOB), ''
				FROM g`, `
				WITH RECURSIVE g(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM g WHERE i < ?2)
				INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, lease_owner, lease_expires, ready_at, created, updated)
				SELECT printf('dlv_00%022d', i), printf('evt_00%022d', i), 'ep_seed', 'succeeded', 1, 0, '', 0, 0,
					(unixepoch() - 20*86400) * 1000, (unixepoch() - 20*86400) * 1000
				FROM g`, `
				WITH RECURSIVE g(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM g WHERE i < ?2)
				INSERT INTO attempts (id, delivery_id, event_id, endpoint_id, attempt, created, url, response_status, duration_ms, error, response_body, next_retry)
				SELECT printf('atm_00%022d', i), printf('dlv_00%022d', i), printf('evt_00%022d', i), 'ep_seed', 1,
					(unixepoch() - 20*86400) * 1000, 'https://example.test/hook', 200, 12, '', '{}', 0
				FROM g`} {
				if _, err := tx.ExecContext(ctx, q, from+1, to); err != nil {
					tx.Rollback()
					return err
				}
			}
			if err := tx.Commit(); err != nil {
				return err
			}
		}
		// A running store checkpoints as it goes; do the same, so that the
		// measurement does not read through a WAL of millions of rows.
		_, err = db.ExecContext(ctx, `ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)`)
		return err
	}
	storetest.PublishAtScale(b, s, seed, n)
}
