package sqlcore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// The per-minute aggregates of attempts (attempt_stats, written with the
// attempts by each store's completion) and the backlog samples
// (backlog_samples), as the dashboard and the health views read them.
// PostgreSQL spreads an aggregate row over shards (attempt_stats.shard);
// the reads sum over whatever rows a minute has, so they are the same.

// HistColumns are the latency histogram columns of attempt_stats:
// "h0, h1, …", one per hookline.LatencyBounds bucket plus the open one.
var HistColumns = func() string {
	cols := make([]string, len(hookline.LatencyBounds)+1)
	for i := range cols {
		cols[i] = "h" + strconv.Itoa(i)
	}
	return strings.Join(cols, ", ")
}()

// sums is "sum(attempts), …, sum(h0), …" in the dialect.
func (d Dialect) sums() string {
	cols := append([]string{"attempts", "successes", "failures", "latency_ms"}, strings.Split(HistColumns, ", ")...)
	for i, c := range cols {
		cols[i] = d.Sum(c)
	}
	return strings.Join(cols, ", ")
}

// stepMinutes validates a bucket step.
func stepMinutes(step time.Duration) (int64, error) {
	if step < time.Minute || step%time.Minute != 0 {
		return 0, hookline.Invalid("step", "step %s is not a positive whole number of minutes", step)
	}
	return int64(step / time.Minute), nil
}

// UnixMinute is t in whole Unix minutes, rounded down: the key of both
// tables.
func UnixMinute(t time.Time) int64 { return t.Unix() / 60 }

// scanStats scans a row of key (a bucket number or an endpoint id) and
// the sums.
func scanStats(row Rows, key any) (hookline.StatsBucket, error) {
	b := hookline.StatsBucket{Latency: make([]int64, len(hookline.LatencyBounds)+1)}
	dest := []any{key, &b.Attempts, &b.Successes, &b.Failures, &b.LatencyMS}
	for i := range b.Latency {
		dest = append(dest, &b.Latency[i])
	}
	return b, row.Scan(dest...)
}

// AttemptStats sums attempts into buckets of f.Step, aligned to f.From.
func (s *Shared) AttemptStats(ctx context.Context, f hookline.StatsFilter) ([]hookline.StatsBucket, error) {
	step, err := stepMinutes(f.Step)
	if err != nil {
		return nil, err
	}
	from, to := UnixMinute(f.From), UnixMinute(f.To)
	rows, err := s.query(ctx, `SELECT (minute - ?) / ? AS b, `+s.cfg.Dialect.sums()+`
		FROM attempt_stats WHERE endpoint_id = ? AND minute >= ? AND minute < ?
		GROUP BY b ORDER BY b`, from, step, f.EndpointID, from, to)
	if err != nil {
		return nil, fmt.Errorf("reading attempt aggregates: %w", err)
	}
	out, err := Collect(rows, func(row Rows) (hookline.StatsBucket, error) {
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
func (s *Shared) EndpointStats(ctx context.Context, since time.Time, endpointIDs []string) (map[string]hookline.StatsBucket, error) {
	out := map[string]hookline.StatsBucket{}
	if len(endpointIDs) == 0 {
		return out, nil
	}
	in, ids := s.cfg.Dialect.In("endpoint_id", endpointIDs)
	rows, err := s.query(ctx, `SELECT endpoint_id, `+s.cfg.Dialect.sums()+`
		FROM attempt_stats WHERE minute >= ? AND `+in+`
		GROUP BY endpoint_id`, UnixMinute(since), ids)
	if err != nil {
		return nil, fmt.Errorf("reading endpoint aggregates: %w", err)
	}
	_, err = Collect(rows, func(row Rows) (struct{}, error) {
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
func (s *Shared) RecordBacklog(ctx context.Context, at time.Time, b hookline.Backlog) error {
	age := b.OldestAge(at).Milliseconds()
	err := s.cfg.Write(ctx, func(ctx context.Context, tx Execer) error {
		_, err := s.exec(ctx, tx, `INSERT INTO backlog_samples (minute, pending, oldest_age_ms) VALUES (?, ?, ?)
			ON CONFLICT (minute) DO UPDATE SET pending = excluded.pending, oldest_age_ms = excluded.oldest_age_ms`,
			UnixMinute(at), b.Pending, age)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording backlog: %w", err)
	}
	return nil
}

// BacklogStats returns the largest samples per bucket of f.Step.
func (s *Shared) BacklogStats(ctx context.Context, f hookline.StatsFilter) ([]hookline.BacklogBucket, error) {
	step, err := stepMinutes(f.Step)
	if err != nil {
		return nil, err
	}
	from, to := UnixMinute(f.From), UnixMinute(f.To)
	rows, err := s.query(ctx, `SELECT (minute - ?) / ? AS b, max(pending), max(oldest_age_ms)
		FROM backlog_samples WHERE minute >= ? AND minute < ? GROUP BY b ORDER BY b`, from, step, from, to)
	if err != nil {
		return nil, fmt.Errorf("reading backlog samples: %w", err)
	}
	out, err := Collect(rows, func(row Rows) (hookline.BacklogBucket, error) {
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
func (s *Shared) PruneStats(ctx context.Context, before time.Time) error {
	m := UnixMinute(before)
	err := s.cfg.Write(ctx, func(ctx context.Context, tx Execer) error {
		// minute is the second key column of attempt_stats: this scans the
		// table, which holds minutes × endpoints rows — small next to
		// attempts, and it runs once an hour.
		if _, err := s.exec(ctx, tx, `DELETE FROM attempt_stats WHERE minute < ?`, m); err != nil {
			return err
		}
		_, err := s.exec(ctx, tx, `DELETE FROM backlog_samples WHERE minute < ?`, m)
		return err
	})
	if err != nil {
		return fmt.Errorf("pruning aggregates: %w", err)
	}
	return nil
}
