package sqlcore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
)

// secretColumn is a column that holds sealed secrets, keyed by key: a
// sealed string, or, when headers is set, a JSON object of header names to
// sealed values (an endpoint's static headers).
type secretColumn struct {
	table, key, column string
	headers            bool
}

// secretColumns are the columns both stores seal: what ResealSecrets
// rewrites. A column that comes to hold a secret joins this list.
var secretColumns = []secretColumn{
	{table: "endpoints", key: "id", column: "secret"},
	{table: "endpoints", key: "id", column: "previous_secret"},
	{table: "endpoints", key: "id", column: "headers", headers: true},
	{table: "sources", key: "id", column: "secret"},
}

// ResealSecrets rewrites, in one write, every secret not sealed under the
// sealer's current key (hookline.SecretStore): plain values from before
// sealing, values sealed under an older key. Rows are locked as they are
// read where the database locks rows, so a node writing an endpoint
// meanwhile waits rather than being overwritten.
func (s *Shared) ResealSecrets(ctx context.Context) (int, error) {
	var n int
	err := s.cfg.Write(ctx, func(ctx context.Context, tx Execer) error {
		n = 0
		for _, c := range secretColumns {
			changed, count, err := s.resealColumn(ctx, tx, c)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", c.table, c.column, err)
			}
			param := "?"
			if c.headers {
				param = s.cfg.Dialect.JSONParam
			}
			for key, v := range changed {
				if _, err := s.exec(ctx, tx, `UPDATE `+c.table+` SET `+c.column+` = `+param+` WHERE `+c.key+` = ?`, v, key); err != nil {
					return fmt.Errorf("%s.%s: %w", c.table, c.column, err)
				}
			}
			n += count
		}
		if s.cfg.EndpointsRewritten != nil {
			s.cfg.EndpointsRewritten()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("re-sealing secrets: %w", err)
	}
	return n, nil
}

// resealColumn reads c's rows and returns the new value of each that needs
// re-sealing, and how many secrets those hold.
func (s *Shared) resealColumn(ctx context.Context, tx Execer, c secretColumn) (map[string]string, int, error) {
	rows, err := tx.Query(ctx, s.cfg.Dialect.Bind(`SELECT `+c.key+`, CAST(`+c.column+` AS TEXT) FROM `+c.table+s.cfg.Dialect.ForUpdate))
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := map[string]string{}
	n := 0
	for rows.Next() {
		var key, v string
		if err := rows.Scan(&key, &v); err != nil {
			return nil, 0, err
		}
		nv, count, err := s.resealValue(c, v)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", key, err)
		}
		if count > 0 {
			out[key] = nv
			n += count
		}
	}
	return out, n, rows.Err()
}

// resealValue returns stored re-sealed and how many secrets it rewrote.
func (s *Shared) resealValue(c secretColumn, stored string) (string, int, error) {
	if !c.headers {
		v, changed, err := hookline.Reseal(s.cfg.Sealer, stored)
		if err != nil || !changed {
			return stored, 0, err
		}
		return v, 1, nil
	}
	var h hookline.Headers
	if err := json.Unmarshal([]byte(stored), &h); err != nil {
		return "", 0, fmt.Errorf("decoding headers: %w", err)
	}
	resealed, n, err := hookline.ResealHeaders(s.cfg.Sealer, h)
	if err != nil || n == 0 {
		return stored, 0, err
	}
	b, err := json.Marshal(resealed)
	if err != nil {
		return "", 0, fmt.Errorf("encoding headers: %w", err)
	}
	return string(b), n, nil
}
