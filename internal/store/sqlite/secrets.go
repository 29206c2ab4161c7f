package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
)

// ResealSecrets rewrites, in one transaction, every secret not sealed under
// the sealer's current key.
func (s *Store) ResealSecrets(ctx context.Context) (int, error) {
	var n int
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		n = 0
		for _, c := range hookline.SecretColumns() {
			q := fmt.Sprintf(`SELECT %s, %s FROM %s`, c.Key, c.Column, c.Table)
			changed, err := s.resealColumn(ctx, tx, q)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", c.Table, c.Column, err)
			}
			for key, v := range changed {
				if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET %s = ? WHERE %s = ?`, c.Table, c.Column, c.Key), v, key); err != nil {
					return fmt.Errorf("%s.%s: %w", c.Table, c.Column, err)
				}
			}
			n += len(changed)
		}
		s.dropEndpointCache()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("re-sealing secrets: %w", err)
	}
	return n, nil
}

// resealColumn reads (key, value) rows and returns the new value of each
// that needs re-sealing.
func (s *Store) resealColumn(ctx context.Context, tx *sql.Tx, q string) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var key, v string
		if err := rows.Scan(&key, &v); err != nil {
			return nil, err
		}
		nv, changed, err := hookline.Reseal(s.seal, v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if changed {
			out[key] = nv
		}
	}
	return out, rows.Err()
}
