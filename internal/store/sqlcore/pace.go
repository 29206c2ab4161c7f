package sqlcore

import (
	"context"
	"fmt"
	"time"
)

// The pacing state of the endpoints (hookline.Bucket) lives in
// endpoint_buckets on both stores: PostgreSQL's claims read and take from
// it in their transactions, SQLite keeps it in memory and writes it
// through to the table so that a restart keeps it.

// BucketTokensUpsert writes one endpoint's bucket after a claim took from
// it: ? are the endpoint id, the tokens left and when (Dialect.Time). A
// hold on the row is kept.
const BucketTokensUpsert = `INSERT INTO endpoint_buckets (endpoint_id, tokens, at) VALUES (?, ?, ?)
	ON CONFLICT (endpoint_id) DO UPDATE SET tokens = excluded.tokens, at = excluded.at`

// HoldEndpoint has claims lease nothing of endpoint id before until (a
// receiver's 429 with Retry-After), in one write: a later until extends
// the hold, an earlier one is ignored, and an unknown endpoint gets no
// row. The bucket's tokens are kept.
func (s *Shared) HoldEndpoint(ctx context.Context, id string, until time.Time) error {
	err := s.cfg.Write(ctx, func(ctx context.Context, tx Execer) error {
		_, err := s.exec(ctx, tx, `INSERT INTO endpoint_buckets (endpoint_id, hold_until)
			SELECT id, ? FROM endpoints WHERE id = ?
			ON CONFLICT (endpoint_id) DO UPDATE SET hold_until = CASE
				WHEN endpoint_buckets.hold_until IS NULL OR endpoint_buckets.hold_until < excluded.hold_until
				THEN excluded.hold_until ELSE endpoint_buckets.hold_until END`, s.cfg.Dialect.Time(until), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("holding endpoint %s: %w", id, err)
	}
	return nil
}
