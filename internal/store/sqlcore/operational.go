package sqlcore

import (
	"context"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
)

// The operational events each store records in its own completion and
// auto-disable transactions (that SQL differs with their designs) wait in
// operational_events until a node publishes them; reading and forgetting
// them is the same SQL on both.

// OperationalEvents returns up to limit recorded operational events,
// oldest first. It reads through Config.ReadCommitted: the events are
// written by committed transactions only.
func (s *Shared) OperationalEvents(ctx context.Context, limit int) ([]*hookline.OperationalEvent, error) {
	read := s.cfg.ReadCommitted
	if read == nil {
		read = s.cfg.Read
	}
	rows, err := read.Query(ctx, s.cfg.Dialect.Bind(`SELECT seq, key, type, endpoint_id, endpoint_url, endpoint_description,
			tenant, event_id, has_attempt, attempt_status, attempt_error, attempt_error_kind, reason
		FROM operational_events ORDER BY seq LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("listing operational events: %w", err)
	}
	out, err := Collect(rows, func(row Rows) (*hookline.OperationalEvent, error) {
		var (
			o          hookline.OperationalEvent
			a          hookline.OperationalAttempt
			hasAttempt bool
		)
		if err := row.Scan(&o.Seq, &o.Key, &o.Type, &o.EndpointID, &o.EndpointURL, &o.EndpointDescription,
			&o.Tenant, &o.EventID, &hasAttempt, &a.Status, &a.Error, &a.ErrorKind, &o.Reason); err != nil {
			return nil, err
		}
		if hasAttempt {
			o.Attempt = &a
		}
		return &o, nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing operational events: %w", err)
	}
	return out, nil
}

// DeleteOperationalEvents forgets published operational events, in one
// write. Seqs already deleted (by another node) are ignored.
func (s *Shared) DeleteOperationalEvents(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	err := s.cfg.Write(ctx, func(ctx context.Context, tx Execer) error {
		// One statement per event: a round publishes at most a hundred,
		// and a bound list would need a dialect for integers.
		for _, seq := range seqs {
			if _, err := s.exec(ctx, tx, `DELETE FROM operational_events WHERE seq = ?`, seq); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("deleting operational events: %w", err)
	}
	return nil
}
