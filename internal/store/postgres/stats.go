package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlcore"
)

// statsShards is how many rows one (endpoint, minute) aggregate is spread
// over; see the migration 0200_stats.sql.
const statsShards = 8

var (
	// upsertStats adds unnested arrays of deltas to attempt_stats.
	upsertStats = func() string {
		n := len(hookline.LatencyBounds) + 1
		var casts, set strings.Builder
		set.WriteString("attempts = s.attempts + excluded.attempts, successes = s.successes + excluded.successes, " +
			"failures = s.failures + excluded.failures, latency_ms = s.latency_ms + excluded.latency_ms")
		for i := range n {
			fmt.Fprintf(&casts, ", $%d::bigint[]", 8+i)
			fmt.Fprintf(&set, ", h%d = s.h%d + excluded.h%d", i, i, i)
		}
		return `INSERT INTO attempt_stats AS s (endpoint_id, minute, shard, attempts, successes, failures, latency_ms, ` + sqlcore.HistColumns + `)
			SELECT x.endpoint_id, x.minute, $3::smallint, x.attempts, x.successes, x.failures, x.latency_ms, ` +
			strings.TrimPrefix(strings.ReplaceAll(", "+sqlcore.HistColumns, ", h", ", x.h"), ", ") + `
			FROM unnest($1::text[], $2::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]` + casts.String() + `)
				AS x(endpoint_id, minute, attempts, successes, failures, latency_ms, ` + sqlcore.HistColumns + `)
			ORDER BY x.endpoint_id, x.minute
			ON CONFLICT (endpoint_id, minute, shard) DO UPDATE SET ` + set.String()
	}()
)

// queueAttemptStats queues, on CompleteTasks's batch, the update of the
// per-minute aggregates with the batch's attempts (whose endpoint ids are
// already filled in), so that they commit with the attempts.
func (s *Store) queueAttemptStats(b *pgx.Batch, cs []hookline.Completion, attempts []hookline.Attempt) {
	byDelivery := make(map[string]string, len(attempts))
	for i := range attempts {
		byDelivery[attempts[i].DeliveryID] = attempts[i].EndpointID
	}
	deltas, _ := hookline.StatsDeltas(cs, func(deliveryID string) (string, error) {
		return byDelivery[deliveryID], nil // never fails: attempts have every reference
	})
	n := len(hookline.LatencyBounds) + 1
	ids := make([]string, len(deltas))
	minutes, att, succ, fail, lat := make([]int64, len(deltas)), make([]int64, len(deltas)), make([]int64, len(deltas)),
		make([]int64, len(deltas)), make([]int64, len(deltas))
	hist := make([][]int64, n)
	for i := range hist {
		hist[i] = make([]int64, len(deltas))
	}
	for i, d := range deltas {
		ids[i], minutes[i], att[i], succ[i], fail[i], lat[i] = d.EndpointID, d.Minute, d.Attempts, d.Successes, d.Failures, d.LatencyMS
		for j, c := range d.Latency {
			hist[j][i] = c
		}
	}
	args := []any{ids, minutes, int16(rand.IntN(statsShards)), att, succ, fail, lat}
	for _, h := range hist {
		args = append(args, h)
	}
	b.Queue(upsertStats, args...)
}

// FailedDeliveries returns a page of an endpoint's failed deliveries.
func (s *Store) FailedDeliveries(ctx context.Context, endpointID string, from, to time.Time, after string, limit int) ([]*hookline.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE endpoint_id = $1 AND status = 'failed' AND id > $2 AND created >= $3 AND created < $4
		ORDER BY id LIMIT $5`, endpointID, after, from.UTC(), to.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("listing failed deliveries: %w", err)
	}
	out, err := collect(rows, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("listing failed deliveries: %w", err)
	}
	return out, nil
}
