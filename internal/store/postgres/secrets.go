package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
)

// ResealSecrets rewrites, in one transaction, every secret not sealed under
// the sealer's current key. Rows are locked as they are read, so a node
// writing an endpoint meanwhile waits rather than being overwritten.
func (s *Store) ResealSecrets(ctx context.Context) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		n = 0
		for _, c := range hookline.SecretColumns() {
			rows, err := tx.Query(ctx, fmt.Sprintf(`SELECT %s, %s FROM %s FOR UPDATE`, c.Key, c.Column, c.Table))
			if err != nil {
				return fmt.Errorf("%s.%s: %w", c.Table, c.Column, err)
			}
			changed := map[string]string{}
			_, err = collect(rows, func(row pgx.Row) (struct{}, error) {
				var key, v string
				if err := row.Scan(&key, &v); err != nil {
					return struct{}{}, err
				}
				nv, ok, err := hookline.Reseal(s.seal, v)
				if err != nil {
					return struct{}{}, fmt.Errorf("%s: %w", key, err)
				}
				if ok {
					changed[key] = nv
				}
				return struct{}{}, nil
			})
			if err != nil {
				return fmt.Errorf("%s.%s: %w", c.Table, c.Column, err)
			}
			for key, v := range changed {
				if _, err := tx.Exec(ctx, fmt.Sprintf(`UPDATE %s SET %s = $1 WHERE %s = $2`, c.Table, c.Column, c.Key), v, key); err != nil {
					return fmt.Errorf("%s.%s: %w", c.Table, c.Column, err)
				}
			}
			n += len(changed)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("re-sealing secrets: %w", err)
	}
	return n, nil
}
