package sqlcore

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// purgeTable is a table that retention purges by age, besides events and
// what hangs off them: rows whose column (a time) is before the cutoff.
// The column should be indexed.
type purgeTable struct{ table, column string }

// purgeTables are the tables PurgeBefore trims besides events. A table
// that grows without bound joins this list, in both stores at once.
var purgeTables = []purgeTable{
	{"idempotency_keys", "published"},
}

// PurgeBefore deletes up to limit of the oldest events created before
// cutoff with their deliveries and attempts in one write, then up to limit
// old rows of each table in purgeTables, each in a write of its own. Each
// write is short, so that publishes and completions wait little behind it.
func (s *Shared) PurgeBefore(ctx context.Context, cutoff time.Time, limit int) (hookline.Purged, error) {
	var p hookline.Purged
	if limit <= 0 {
		return p, nil
	}
	d := s.cfg.Dialect
	err := s.cfg.Write(ctx, func(ctx context.Context, tx Execer) error {
		rows, err := tx.Query(ctx, d.Bind(`DELETE FROM events WHERE id IN (
				SELECT id FROM events WHERE created < ? ORDER BY created LIMIT ? `+d.SkipLocked+`
			) RETURNING id`), d.Time(cutoff), limit)
		if err != nil {
			return fmt.Errorf("deleting events: %w", err)
		}
		ids, err := Collect(rows, func(row Rows) (string, error) {
			var id string
			return id, row.Scan(&id)
		})
		if err != nil {
			return fmt.Errorf("deleting events: %w", err)
		}
		p.Events, p.Rows, p.More = int64(len(ids)), int64(len(ids)), len(ids) == limit
		if len(ids) == 0 {
			return nil
		}
		in, arg := d.In("event_id", ids)
		for _, table := range []string{"deliveries", "attempts"} {
			n, err := s.exec(ctx, tx, `DELETE FROM `+table+` WHERE `+in, arg)
			if err != nil {
				return fmt.Errorf("deleting what hangs off events: %w", err)
			}
			p.Rows += n
		}
		return nil
	})
	if err != nil {
		return hookline.Purged{}, fmt.Errorf("purging events before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	for _, t := range purgeTables {
		var n int64
		err := s.cfg.Write(ctx, func(ctx context.Context, tx Execer) error {
			var err error
			n, err = s.exec(ctx, tx, `DELETE FROM "`+t.table+`" WHERE `+d.RowsIn(
				`SELECT `+d.RowID+` FROM "`+t.table+`" WHERE "`+t.column+`" < ? LIMIT ?`), d.Time(cutoff), limit)
			return err
		})
		if err != nil {
			return p, fmt.Errorf("purging %s before %s: %w", t.table, cutoff.Format(time.RFC3339), err)
		}
		p.Rows += n
		if n == int64(limit) {
			p.More = true
		}
	}
	return p, nil
}
