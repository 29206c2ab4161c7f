package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

var _ hookline.Retention = (*Store)(nil)

// purgeTable is a table that retention purges by age, besides events and
// what hangs off them: rows whose column, unix milliseconds, is before the
// cutoff. The column should be indexed.
type purgeTable struct{ table, column string }

// purgeTables are the tables PurgeBefore trims besides events. A feature
// whose table grows without bound (inbound requests, stats) appends it here
// from an init function in its own file, and does the same in the
// PostgreSQL store.
var purgeTables = []purgeTable{
	{"idempotency_keys", "published"},
}

// PurgeBefore deletes up to limit of the oldest events created before cutoff
// with their deliveries and attempts in one write, then up to limit old rows
// of each table in purgeTables, each in a write of its own. Each write is
// short, so publishes and completions queued behind it wait little.
func (s *Store) PurgeBefore(ctx context.Context, cutoff time.Time, limit int) (hookline.Purged, error) {
	var p hookline.Purged
	if limit <= 0 {
		return p, nil
	}
	// An event whose journal record a replay could bring back is not
	// purged: this retires the segments of those old enough, and the fence
	// keeps the purge off the events of segments still live.
	if err := s.retireForPurge(ctx, ms(cutoff)); err != nil {
		return p, fmt.Errorf("purging events before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM events WHERE id IN (
				SELECT id FROM events WHERE created < ? ORDER BY created LIMIT ?
			) RETURNING id`, s.purgeFence(ms(cutoff)), limit)
		if err != nil {
			return fmt.Errorf("deleting events: %w", err)
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("deleting events: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("deleting events: %w", err)
		}
		p.Events, p.Rows, p.More = int64(len(ids)), int64(len(ids)), len(ids) == limit
		if len(ids) == 0 {
			return nil
		}
		list, _ := json.Marshal(ids) // marshalling strings cannot fail
		for _, q := range []string{
			`DELETE FROM deliveries WHERE event_id IN (SELECT value FROM json_each(?))`,
			`DELETE FROM attempts WHERE event_id IN (SELECT value FROM json_each(?))`,
		} {
			res, err := tx.ExecContext(ctx, q, string(list))
			if err != nil {
				return fmt.Errorf("deleting what hangs off events: %w", err)
			}
			n, _ := res.RowsAffected()
			p.Rows += n
		}
		return nil
	})
	if err != nil {
		return hookline.Purged{}, fmt.Errorf("purging events before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	for _, t := range purgeTables {
		var n int64
		err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM "`+t.table+`" WHERE rowid IN (
				SELECT rowid FROM "`+t.table+`" WHERE "`+t.column+`" < ? LIMIT ?)`, ms(cutoff), limit)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
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
