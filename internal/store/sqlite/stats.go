package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlcore"
)

// upsertStats adds to a row of attempt_stats, creating it if needed.
var upsertStats = func() string {
	n := len(hookline.LatencyBounds) + 1
	var set strings.Builder
	set.WriteString("attempts = attempts + excluded.attempts, successes = successes + excluded.successes, " +
		"failures = failures + excluded.failures, latency_ms = latency_ms + excluded.latency_ms")
	for i := range n {
		fmt.Fprintf(&set, ", h%d = h%d + excluded.h%d", i, i, i)
	}
	return `INSERT INTO attempt_stats (endpoint_id, minute, attempts, successes, failures, latency_ms, ` + sqlcore.HistColumns + `)
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
