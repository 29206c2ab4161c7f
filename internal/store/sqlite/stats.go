package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// histColumns are the latency histogram columns of attempt_stats:
// "h0, h1, …", one per hookline.LatencyBounds bucket plus the open one.
var histColumns = func() string {
	cols := make([]string, len(hookline.LatencyBounds)+1)
	for i := range cols {
		cols[i] = "h" + strconv.Itoa(i)
	}
	return strings.Join(cols, ", ")
}()

// sumHist is "sum(h0), sum(h1), …".
var sumHist = "sum(" + strings.ReplaceAll(histColumns, ", ", "), sum(") + ")"

// upsertStats adds to a row of attempt_stats, creating it if needed.
var upsertStats = func() string {
	n := len(hookline.LatencyBounds) + 1
	var set strings.Builder
	set.WriteString("attempts = attempts + excluded.attempts, successes = successes + excluded.successes, " +
		"failures = failures + excluded.failures, latency_ms = latency_ms + excluded.latency_ms")
	for i := range n {
		fmt.Fprintf(&set, ", h%d = h%d + excluded.h%d", i, i, i)
	}
	return `INSERT INTO attempt_stats (endpoint_id, minute, attempts, successes, failures, latency_ms, ` + histColumns + `)
		VALUES (` + placeholders(6+n) + `)
		ON CONFLICT (endpoint_id, minute) DO UPDATE SET ` + set.String()
}()

// recordAttemptStats adds a batch of completions to the per-minute
// aggregates. CompleteTasks calls it inside its transaction, so the
// aggregates commit or roll back with the attempts.
func (s *Store) recordAttemptStats(ctx context.Context, tx *sql.Tx, cs []hookline.Completion) error {
	deltas, err := hookline.StatsDeltas(cs, func(deliveryID string) (string, error) {
		var endpoint string
		err := tx.QueryRowContext(ctx, `SELECT endpoint_id FROM deliveries WHERE id = ?`, deliveryID).Scan(&endpoint)
		if errors.Is(err, sql.ErrNoRows) {
			return "", hookline.NotFound("delivery", deliveryID)
		}
		return endpoint, err
	})
	if err != nil {
		return fmt.Errorf("aggregating attempts: %w", err)
	}
	// Prepared once per batch, not once per row: a batch touches one row
	// per endpoint and minute plus the totals.
	st, err := tx.PrepareContext(ctx, upsertStats)
	if err != nil {
		return fmt.Errorf("preparing the aggregates upsert: %w", err)
	}
	defer st.Close()
	args := make([]any, 0, 6+len(hookline.LatencyBounds)+1)
	for _, d := range deltas {
		args = append(args[:0], d.EndpointID, d.Minute, d.Attempts, d.Successes, d.Failures, d.LatencyMS)
		for _, n := range d.Latency {
			args = append(args, n)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("updating attempt aggregates: %w", err)
		}
	}
	return nil
}

// stepMinutes validates a bucket step.
func stepMinutes(step time.Duration) (int64, error) {
	if step < time.Minute || step%time.Minute != 0 {
		return 0, hookline.Invalid("step", "step %s is not a positive whole number of minutes", step)
	}
	return int64(step / time.Minute), nil
}

// unixMinute is t in whole unix minutes, rounded down.
func unixMinute(t time.Time) int64 {
	return t.Unix() / 60
}

func scanStats(sc scanner, withKey bool) (key int64, id string, b hookline.StatsBucket, err error) {
	b.Latency = make([]int64, len(hookline.LatencyBounds)+1)
	dest := make([]any, 0, 6+len(b.Latency))
	if withKey {
		dest = append(dest, &key)
	} else {
		dest = append(dest, &id)
	}
	dest = append(dest, &b.Attempts, &b.Successes, &b.Failures, &b.LatencyMS)
	for i := range b.Latency {
		dest = append(dest, &b.Latency[i])
	}
	err = sc.Scan(dest...)
	return key, id, b, err
}

// AttemptStats sums attempts into buckets of f.Step.
func (s *Store) AttemptStats(ctx context.Context, f hookline.StatsFilter) ([]hookline.StatsBucket, error) {
	step, err := stepMinutes(f.Step)
	if err != nil {
		return nil, err
	}
	from, to := unixMinute(f.From), unixMinute(f.To)
	// Buckets are aligned to from, so the first one starts at f.From.
	rows, err := s.r.QueryContext(ctx, `SELECT (minute - ?) / ? AS b, sum(attempts), sum(successes), sum(failures), sum(latency_ms), `+sumHist+`
		FROM attempt_stats WHERE endpoint_id = ? AND minute >= ? AND minute < ?
		GROUP BY b ORDER BY b`, from, step, f.EndpointID, from, to)
	if err != nil {
		return nil, fmt.Errorf("reading attempt aggregates: %w", err)
	}
	defer rows.Close()
	var out []hookline.StatsBucket
	for rows.Next() {
		k, _, b, err := scanStats(rows, true)
		if err != nil {
			return nil, fmt.Errorf("reading attempt aggregates: %w", err)
		}
		b.Start = time.Unix((from+k*step)*60, 0).UTC()
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
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
	args := []any{unixMinute(since)}
	for _, id := range endpointIDs {
		args = append(args, id)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT endpoint_id, sum(attempts), sum(successes), sum(failures), sum(latency_ms), `+sumHist+`
		FROM attempt_stats WHERE minute >= ? AND endpoint_id IN (`+placeholders(len(endpointIDs))+`)
		GROUP BY endpoint_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading endpoint aggregates: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		_, id, b, err := scanStats(rows, false)
		if err != nil {
			return nil, fmt.Errorf("reading endpoint aggregates: %w", err)
		}
		out[id] = b
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading endpoint aggregates: %w", err)
	}
	return out, nil
}

// RecordBacklog stores a backlog sample for at's minute.
func (s *Store) RecordBacklog(ctx context.Context, at time.Time, b hookline.Backlog) error {
	age := b.OldestAge(at).Milliseconds()
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO backlog_samples (minute, pending, oldest_age_ms) VALUES (?, ?, ?)
			ON CONFLICT (minute) DO UPDATE SET pending = excluded.pending, oldest_age_ms = excluded.oldest_age_ms`,
			unixMinute(at), b.Pending, age)
		return err
	})
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
	rows, err := s.r.QueryContext(ctx, `SELECT (minute - ?) / ? AS b, max(pending), max(oldest_age_ms)
		FROM backlog_samples WHERE minute >= ? AND minute < ? GROUP BY b ORDER BY b`, from, step, from, to)
	if err != nil {
		return nil, fmt.Errorf("reading backlog samples: %w", err)
	}
	defer rows.Close()
	var out []hookline.BacklogBucket
	for rows.Next() {
		var (
			k int64
			b hookline.BacklogBucket
		)
		if err := rows.Scan(&k, &b.Pending, &b.OldestAgeMS); err != nil {
			return nil, fmt.Errorf("reading backlog samples: %w", err)
		}
		b.Start = time.Unix((from+k*step)*60, 0).UTC()
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading backlog samples: %w", err)
	}
	return out, nil
}

// PruneStats deletes aggregates and samples older than before.
func (s *Store) PruneStats(ctx context.Context, before time.Time) error {
	m := unixMinute(before)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// minute is the second key column: this scans the table, which
		// holds minutes × endpoints rows — small next to attempts, and it
		// runs once an hour.
		if _, err := tx.ExecContext(ctx, `DELETE FROM attempt_stats WHERE minute < ?`, m); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM backlog_samples WHERE minute < ?`, m)
		return err
	})
	if err != nil {
		return fmt.Errorf("pruning aggregates: %w", err)
	}
	return nil
}

// FailedDeliveries returns a page of an endpoint's failed deliveries.
func (s *Store) FailedDeliveries(ctx context.Context, endpointID string, from, to time.Time, after string, limit int) ([]*hookline.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	out, err := queryAll(ctx, s.r, `SELECT `+deliveryColumns+` FROM deliveries INDEXED BY deliveries_failed
		WHERE endpoint_id = ? AND status = 'failed' AND id > ? AND created >= ? AND created < ?
		ORDER BY id LIMIT ?`, []any{endpointID, after, ms(from), ms(to), limit}, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("listing failed deliveries: %w", err)
	}
	return out, nil
}
