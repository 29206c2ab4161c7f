package postgres

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/hookline/hookline/internal/store/storetest"
)

// seedEvents returns HOOKLINE_SEED_EVENTS, or def.
func seedEvents(def int) int {
	if n, err := strconv.Atoi(os.Getenv("HOOKLINE_SEED_EVENTS")); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkPublishAtScale compares publish and claim on an empty database
// with the same after millions of old events were stored:
//
//	HOOKLINE_SEED_EVENTS=10000000 go test ./internal/store/postgres -run '^$' -bench PublishAtScale -benchtime 1x -timeout 1h
func BenchmarkPublishAtScale(b *testing.B) {
	s := open(b, Options{})
	seed := func(ctx context.Context, n int) error {
		// In chunks, so that one transaction does not hold millions of rows.
		const chunk = 1_000_000
		for from := 0; from < n; from += chunk {
			to := min(from+chunk, n)
			for _, q := range []string{`
				INSERT INTO events (id, type, created, tenant, payload, idempotency_key)
				SELECT 'evt_00' || lpad(g::text, 22, '0'), 'invoice.paid', now() - interval '20 days' + g * interval '100 microseconds', '',
					convert_to('{"id":"evt_00' || lpad(g::text, 22, '0') || '","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1Nw","amount_due":4200,"currency":"eur"}}}', 'UTF8'), ''
				FROM generate_series($1::bigint, $2::bigint) g`, `
				INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, lease_owner, lease_expires, ready_at, paused, created, updated)
				SELECT 'dlv_00' || lpad(g::text, 22, '0'), 'evt_00' || lpad(g::text, 22, '0'), 'ep_seed', 'succeeded', 1, NULL, '', NULL, NULL, false,
					now() - interval '20 days', now() - interval '20 days'
				FROM generate_series($1::bigint, $2::bigint) g`, `
				INSERT INTO attempts (id, delivery_id, event_id, endpoint_id, attempt, created, url, response_status, duration_ms, error, response_body, next_retry)
				SELECT 'atm_00' || lpad(g::text, 22, '0'), 'dlv_00' || lpad(g::text, 22, '0'), 'evt_00' || lpad(g::text, 22, '0'), 'ep_seed', 1,
					now() - interval '20 days', 'https://example.test/hook', 200, 12, '', '\x7b7d'::bytea, NULL
				FROM generate_series($1::bigint, $2::bigint) g`} {
				if _, err := s.pool.Exec(ctx, q, from+1, to); err != nil {
					return err
				}
			}
		}
		_, err := s.pool.Exec(ctx, `ANALYZE`)
		return err
	}
	storetest.PublishAtScale(b, s, seed, seedEvents(200_000))
}
