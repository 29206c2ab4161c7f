package sqlcore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
)

// The columns that hold sealed secrets, each the purpose its values are
// sealed for (hookline.SecretUse.Column) together with their row's key: a
// value sealed for one column and row opens in no other.
const (
	EndpointSecretColumn         = "endpoints.secret"
	EndpointPreviousSecretColumn = "endpoints.previous_secret"
	EndpointHeadersColumn        = "endpoints.headers"
	SourceSecretColumn           = "sources.secret"
)

// secretColumn is a column that holds sealed secrets, keyed by key: a
// sealed string, or, when headers is set, a JSON object of header names to
// sealed values (an endpoint's static headers).
type secretColumn struct {
	table, key, column string
	purpose            string
	headers            bool
}

// secretColumns are the columns both stores seal: what ResealSecrets
// rewrites. A column that comes to hold a secret joins this list, with a
// purpose of its own, and the stores seal and open it for that purpose
// (SealEndpoint and OpenEndpoint, SealSource and OpenSource).
var secretColumns = []secretColumn{
	{table: "endpoints", key: "id", column: "secret", purpose: EndpointSecretColumn},
	{table: "endpoints", key: "id", column: "previous_secret", purpose: EndpointPreviousSecretColumn},
	{table: "endpoints", key: "id", column: "headers", purpose: EndpointHeadersColumn, headers: true},
	{table: "sources", key: "id", column: "secret", purpose: SourceSecretColumn},
}

// SealedEndpoint is what a store writes of an endpoint's secrets: each
// sealed for its column and the endpoint's id.
type SealedEndpoint struct {
	Secret, PreviousSecret string
	Headers                hookline.Headers
}

// SealEndpoint seals e's secret, previous secret and header values for
// their columns and e.ID, which a new endpoint has before it is inserted.
func SealEndpoint(s hookline.SecretSealer, e *hookline.Endpoint) (SealedEndpoint, error) {
	var out SealedEndpoint
	var err error
	if out.Secret, err = s.Seal(hookline.SecretUse{Column: EndpointSecretColumn, Row: e.ID}, e.Secret); err != nil {
		return SealedEndpoint{}, fmt.Errorf("sealing the secret of %s: %w", e.ID, err)
	}
	if out.PreviousSecret, err = s.Seal(hookline.SecretUse{Column: EndpointPreviousSecretColumn, Row: e.ID}, e.PreviousSecret); err != nil {
		return SealedEndpoint{}, fmt.Errorf("sealing the previous secret of %s: %w", e.ID, err)
	}
	if out.Headers, err = hookline.SealHeaders(s, hookline.SecretUse{Column: EndpointHeadersColumn, Row: e.ID}, e.Headers); err != nil {
		return SealedEndpoint{}, fmt.Errorf("sealing the headers of %s: %w", e.ID, err)
	}
	return out, nil
}

// OpenEndpoint opens, in place, the secrets of e as read from its row
// (e.ID read too): a value sealed for another column or row does not open.
func OpenEndpoint(s hookline.SecretSealer, e *hookline.Endpoint) error {
	var err error
	if e.Secret, err = s.Open(hookline.SecretUse{Column: EndpointSecretColumn, Row: e.ID}, e.Secret); err != nil {
		return fmt.Errorf("opening the secret of %s: %w", e.ID, err)
	}
	if e.PreviousSecret, err = s.Open(hookline.SecretUse{Column: EndpointPreviousSecretColumn, Row: e.ID}, e.PreviousSecret); err != nil {
		return fmt.Errorf("opening the previous secret of %s: %w", e.ID, err)
	}
	if err := hookline.OpenHeaders(s, hookline.SecretUse{Column: EndpointHeadersColumn, Row: e.ID}, e.Headers); err != nil {
		return fmt.Errorf("opening the headers of %s: %w", e.ID, err)
	}
	return nil
}

// SealSource returns src's secret sealed for its column and src.ID.
func SealSource(s hookline.SecretSealer, src *hookline.Source) (string, error) {
	v, err := s.Seal(hookline.SecretUse{Column: SourceSecretColumn, Row: src.ID}, src.Secret)
	if err != nil {
		return "", fmt.Errorf("sealing the secret of %s: %w", src.ID, err)
	}
	return v, nil
}

// OpenSource opens, in place, the secret of src as read from its row.
func OpenSource(s hookline.SecretSealer, src *hookline.Source) error {
	v, err := s.Open(hookline.SecretUse{Column: SourceSecretColumn, Row: src.ID}, src.Secret)
	if err != nil {
		return fmt.Errorf("opening the secret of %s: %w", src.ID, err)
	}
	src.Secret = v
	return nil
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
	// In key order: CompleteTasks locks endpoint rows in id order too, so
	// a re-seal under load waits for it rather than deadlocking with it.
	rows, err := tx.Query(ctx, s.cfg.Dialect.Bind(`SELECT `+c.key+`, CAST(`+c.column+` AS TEXT) FROM `+c.table+` ORDER BY `+c.key+s.cfg.Dialect.ForUpdate))
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
		nv, count, err := s.resealValue(c, key, v)
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

// resealValue returns stored, the value of c in the row keyed key,
// re-sealed, and how many secrets it rewrote.
func (s *Shared) resealValue(c secretColumn, key, stored string) (string, int, error) {
	use := hookline.SecretUse{Column: c.purpose, Row: key}
	if !c.headers {
		v, changed, err := s.cfg.Sealer.Reseal(use, stored)
		if err != nil || !changed {
			return stored, 0, err
		}
		return v, 1, nil
	}
	var h hookline.Headers
	if err := json.Unmarshal([]byte(stored), &h); err != nil {
		return "", 0, fmt.Errorf("decoding headers: %w", err)
	}
	resealed, n, err := hookline.ResealHeaders(s.cfg.Sealer, use, h)
	if err != nil || n == 0 {
		return stored, 0, err
	}
	b, err := json.Marshal(resealed)
	if err != nil {
		return "", 0, fmt.Errorf("encoding headers: %w", err)
	}
	return string(b), n, nil
}
