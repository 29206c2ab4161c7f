package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
)

var _ hookline.Retention = (*Store)(nil)

// purgeTable is a table that retention purges by age, besides events and
// what hangs off them: rows whose column, a timestamptz, is before the
// cutoff. The column should be indexed.
type purgeTable struct{ table, column string }

// purgeTables are the tables PurgeBefore trims besides events. A feature
// whose table grows without bound (inbound requests, stats) appends it here
// from an init function in its own file, and does the same in the SQLite
// store.
var purgeTables = []purgeTable{
	{"idempotency_keys", "published"},
}

// PurgeBefore deletes up to limit of the oldest events created before cutoff
// with their deliveries and attempts, in one transaction, then up to limit
// old rows of each table in purgeTables, each in a statement of its own, so
// that no lock is held for long.
func (s *Store) PurgeBefore(ctx context.Context, cutoff time.Time, limit int) (hookline.Purged, error) {
	var p hookline.Purged
	if limit <= 0 {
		return p, nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// SKIP LOCKED: an event being resent right now is left for the
		// next round rather than waited for.
		rows, err := tx.Query(ctx, `DELETE FROM events WHERE id IN (
				SELECT id FROM events WHERE created < $1 ORDER BY created LIMIT $2 FOR UPDATE SKIP LOCKED
			) RETURNING id`, ts(cutoff), limit)
		if err != nil {
			return fmt.Errorf("deleting events: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("deleting events: %w", err)
		}
		p.Events = int64(len(ids))
		p.Rows = p.Events
		p.More = len(ids) == limit
		if len(ids) == 0 {
			return nil
		}
		for _, q := range []string{
			`DELETE FROM deliveries WHERE event_id = ANY($1)`,
			`DELETE FROM attempts WHERE event_id = ANY($1)`,
		} {
			tag, err := tx.Exec(ctx, q, ids)
			if err != nil {
				return fmt.Errorf("deleting what hangs off events: %w", err)
			}
			p.Rows += tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return hookline.Purged{}, fmt.Errorf("purging events before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	for _, t := range purgeTables {
		ident := pgx.Identifier{t.table}.Sanitize()
		tag, err := s.pool.Exec(ctx, `DELETE FROM `+ident+` WHERE ctid = ANY(ARRAY(
			SELECT ctid FROM `+ident+` WHERE `+pgx.Identifier{t.column}.Sanitize()+` < $1 LIMIT $2))`, ts(cutoff), limit)
		if err != nil {
			return p, fmt.Errorf("purging %s before %s: %w", t.table, cutoff.Format(time.RFC3339), err)
		}
		p.Rows += tag.RowsAffected()
		if tag.RowsAffected() == int64(limit) {
			p.More = true
		}
	}
	return p, nil
}
