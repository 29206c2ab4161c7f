package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
)

// statsShards is how many rows one (endpoint, minute) aggregate is spread
// over; see the migration 0200_stats.sql.
const statsShards = 8

var (
	histColumns = func() string {
		cols := make([]string, len(hookline.LatencyBounds)+1)
		for i := range cols {
			cols[i] = "h" + strconv.Itoa(i)
		}
		return strings.Join(cols, ", ")
	}()
	sumHist = "sum(" + strings.ReplaceAll(histColumns, ", ", ")::bigint, sum(") + ")::bigint"

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
		return `INSERT INTO attempt_stats AS s (endpoint_id, minute, shard, attempts, successes, failures, latency_ms, ` + histColumns + `)
			SELECT x.endpoint_id, x.minute, $3::smallint, x.attempts, x.successes, x.failures, x.latency_ms, ` +
			strings.TrimPrefix(strings.ReplaceAll(", "+histColumns, ", h", ", x.h"), ", ") + `
			FROM unnest($1::text[], $2::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]` + casts.String() + `)
				AS x(endpoint_id, minute, attempts, successes, failures, latency_ms, ` + histColumns + `)
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

func stepMinutes(step time.Duration) (int64, error) {
	if step < time.Minute || step%time.Minute != 0 {
		return 0, hookline.Invalid("step", "step %s is not a positive whole number of minutes", step)
	}
	return int64(step / time.Minute), nil
}

func unixMinute(t time.Time) int64 { return t.Unix() / 60 }

func scanStats(row pgx.Row, key any) (hookline.StatsBucket, error) {
	b := hookline.StatsBucket{Latency: make([]int64, len(hookline.LatencyBounds)+1)}
	dest := []any{key, &b.Attempts, &b.Successes, &b.Failures, &b.LatencyMS}
	for i := range b.Latency {
		dest = append(dest, &b.Latency[i])
	}
	return b, row.Scan(dest...)
}

// AttemptStats sums attempts into buckets of f.Step.
func (s *Store) AttemptStats(ctx context.Context, f hookline.StatsFilter) ([]hookline.StatsBucket, error) {
	step, err := stepMinutes(f.Step)
	if err != nil {
		return nil, err
	}
	from, to := unixMinute(f.From), unixMinute(f.To)
	rows, err := s.pool.Query(ctx, `SELECT (minute - $1) / $2 AS b, sum(attempts)::bigint, sum(successes)::bigint,
			sum(failures)::bigint, sum(latency_ms)::bigint, `+sumHist+`
		FROM attempt_stats WHERE endpoint_id = $3 AND minute >= $1 AND minute < $4
		GROUP BY b ORDER BY b`, from, step, f.EndpointID, to)
	if err != nil {
		return nil, fmt.Errorf("reading attempt aggregates: %w", err)
	}
	out, err := collect(rows, func(row pgx.Row) (hookline.StatsBucket, error) {
		var k int64
		b, err := scanStats(row, &k)
		b.Start = time.Unix((from+k*step)*60, 0).UTC()
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading attempt aggregates: %w", err)
	}
	return out, nil
}

// EndpointStats sums each listed endpoint's attempts since since.
func (s *Store) EndpointStats(ctx context.Context, since time.Time, endpointIDs []string) (map[string]hookline.StatsBucket, error) {
	out := map[string]hookline.StatsBucket{}
	if len(endpointIDs) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT endpoint_id, sum(attempts)::bigint, sum(successes)::bigint,
			sum(failures)::bigint, sum(latency_ms)::bigint, `+sumHist+`
		FROM attempt_stats WHERE endpoint_id = ANY($1) AND minute >= $2
		GROUP BY endpoint_id`, endpointIDs, unixMinute(since))
	if err != nil {
		return nil, fmt.Errorf("reading endpoint aggregates: %w", err)
	}
	_, err = collect(rows, func(row pgx.Row) (struct{}, error) {
		var id string
		b, err := scanStats(row, &id)
		out[id] = b
		return struct{}{}, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading endpoint aggregates: %w", err)
	}
	return out, nil
}

// RecordBacklog stores a backlog sample for at's minute.
func (s *Store) RecordBacklog(ctx context.Context, at time.Time, b hookline.Backlog) error {
	age := b.OldestAge(at).Milliseconds()
	_, err := s.pool.Exec(ctx, `INSERT INTO backlog_samples (minute, pending, oldest_age_ms) VALUES ($1, $2, $3)
		ON CONFLICT (minute) DO UPDATE SET pending = excluded.pending, oldest_age_ms = excluded.oldest_age_ms`,
		unixMinute(at), b.Pending, age)
	if err != nil {
		return fmt.Errorf("recording backlog: %w", err)
	}
	return nil
}

// BacklogStats returns the largest samples per bucket.
func (s *Store) BacklogStats(ctx context.Context, f hookline.StatsFilter) ([]hookline.BacklogBucket, error) {
	step, err := stepMinutes(f.Step)
	if err != nil {
		return nil, err
	}
	from, to := unixMinute(f.From), unixMinute(f.To)
	rows, err := s.pool.Query(ctx, `SELECT (minute - $1) / $2 AS b, max(pending), max(oldest_age_ms)
		FROM backlog_samples WHERE minute >= $1 AND minute < $3 GROUP BY b ORDER BY b`, from, step, to)
	if err != nil {
		return nil, fmt.Errorf("reading backlog samples: %w", err)
	}
	out, err := collect(rows, func(row pgx.Row) (hookline.BacklogBucket, error) {
		var (
			k int64
			b hookline.BacklogBucket
		)
		err := row.Scan(&k, &b.Pending, &b.OldestAgeMS)
		b.Start = time.Unix((from+k*step)*60, 0).UTC()
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading backlog samples: %w", err)
	}
	return out, nil
}

// PruneStats deletes aggregates and samples older than before.
func (s *Store) PruneStats(ctx context.Context, before time.Time) error {
	m := unixMinute(before)
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM attempt_stats WHERE minute < $1`, m)
	b.Queue(`DELETE FROM backlog_samples WHERE minute < $1`, m)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("pruning aggregates: %w", err)
	}
	return nil
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
