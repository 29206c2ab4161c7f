package sqlcore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
// sealed for its column and the endpoint's id, or nil where the column
// keeps what it holds.
type SealedEndpoint struct {
	Secret, PreviousSecret, Headers any // string, string, hookline.Headers; or nil
}

// SealEndpoint seals e's secret, previous secret and header values for
// their columns and e.ID, which a new endpoint has before it is inserted.
// A column whose values did not open when e was read (e.SealErr) and were
// not replaced since is nil: the store's update keeps the stored value
// (COALESCE), rather than writing the blank e holds, so that a change of
// anything else (its URL, its status, its other secret) neither loses the
// value nor is refused.
func SealEndpoint(s hookline.SecretSealer, e *hookline.Endpoint) (SealedEndpoint, error) {
	var keep hookline.SealError
	if e.SealErr != nil {
		keep = *e.SealErr
	}
	var out SealedEndpoint
	if !keep.Secret {
		v, err := s.Seal(hookline.SecretUse{Column: EndpointSecretColumn, Row: e.ID}, e.Secret)
		if err != nil {
			return SealedEndpoint{}, fmt.Errorf("sealing the secret of %s: %w", e.ID, err)
		}
		out.Secret = v
	}
	if !keep.PreviousSecret {
		v, err := s.Seal(hookline.SecretUse{Column: EndpointPreviousSecretColumn, Row: e.ID}, e.PreviousSecret)
		if err != nil {
			return SealedEndpoint{}, fmt.Errorf("sealing the previous secret of %s: %w", e.ID, err)
		}
		out.PreviousSecret = v
	}
	if !keep.Headers {
		h, err := hookline.SealHeaders(s, hookline.SecretUse{Column: EndpointHeadersColumn, Row: e.ID}, e.Headers)
		if err != nil {
			return SealedEndpoint{}, fmt.Errorf("sealing the headers of %s: %w", e.ID, err)
		}
		if h == nil {
			h = hookline.Headers{} // stored empty, never NULL: NULL keeps
		}
		out.Headers = h
	}
	return out, nil
}

// OpenEndpoint opens, in place, the secrets of e as read from its row
// (e.ID read too). A value sealed for another column or row does not open;
// nor does one under a key this server lacks, or altered. Such a value is
// blanked, never left as its ciphertext, and noted in e.SealErr: the read
// goes on, so one endpoint's bad row fails no read of the others (the
// claims that deliver to them, publishing, listing) and the endpoint
// itself can still be listed and mended; the delivery engine refuses to
// send to it meanwhile.
func OpenEndpoint(s hookline.SecretSealer, e *hookline.Endpoint) {
	var se hookline.SealError
	note := func(flag *bool, err error) {
		*flag = true
		if se.Err == nil {
			se.Err = err
		}
	}
	var err error
	if e.Secret, err = s.Open(hookline.SecretUse{Column: EndpointSecretColumn, Row: e.ID}, e.Secret); err != nil {
		e.Secret = ""
		note(&se.Secret, fmt.Errorf("opening the secret of %s: %w", e.ID, err))
	}
	if e.PreviousSecret, err = s.Open(hookline.SecretUse{Column: EndpointPreviousSecretColumn, Row: e.ID}, e.PreviousSecret); err != nil {
		e.PreviousSecret = ""
		// One whose overlap has ended signs nothing more: it is not missed.
		if e.PreviousSecretExpires.IsZero() || e.PreviousSecretExpires.After(time.Now()) {
			note(&se.PreviousSecret, fmt.Errorf("opening the previous secret of %s: %w", e.ID, err))
		}
	}
	use := hookline.SecretUse{Column: EndpointHeadersColumn, Row: e.ID}
	for name, stored := range e.Headers {
		v, err := s.Open(use, stored)
		if err != nil {
			v = ""
			note(&se.Headers, fmt.Errorf("opening the value of header %s of %s: %w", name, e.ID, err))
		}
		e.Headers[name] = v
	}
	if se.Err != nil {
		e.SealErr = &se
	}
}

// SealSource returns src's secret sealed for its column and src.ID, or
// nil when it did not open when src was read (src.SealErr) and was not
// replaced since: the store's update keeps what is stored (COALESCE), so
// that a change of anything else (its limits, its name) is made and loses
// nothing, as for an endpoint (SealEndpoint).
func SealSource(s hookline.SecretSealer, src *hookline.Source) (any, error) {
	if src.SealErr != nil {
		return nil, nil
	}
	v, err := s.Seal(hookline.SecretUse{Column: SourceSecretColumn, Row: src.ID}, src.Secret)
	if err != nil {
		return nil, fmt.Errorf("sealing the secret of %s: %w", src.ID, err)
	}
	return v, nil
}

// OpenSource opens, in place, the secret of src as read from its row. A
// secret that does not open is blanked and noted in src.SealErr, as
// OpenEndpoint does, so that one source's bad row fails no list of
// sources nor another source's requests.
func OpenSource(s hookline.SecretSealer, src *hookline.Source) {
	v, err := s.Open(hookline.SecretUse{Column: SourceSecretColumn, Row: src.ID}, src.Secret)
	if err != nil {
		v, src.SealErr = "", fmt.Errorf("opening the secret of %s: %w", src.ID, err)
	}
	src.Secret = v
}

// ResealSecrets rewrites, in one write, every secret not sealed under the
// sealer's current key (hookline.SecretStore): plain values from before
// sealing, values sealed under an older key. A value that does not open is
// left as it is and named in the result. Rows are locked as they are
// read where the database locks rows, so a node writing an endpoint
// meanwhile waits rather than being overwritten.
func (s *Shared) ResealSecrets(ctx context.Context) (hookline.Resealed, error) {
	var out hookline.Resealed
	err := s.cfg.Write(ctx, func(ctx context.Context, tx Execer) error {
		out = hookline.Resealed{}
		for _, c := range secretColumns {
			changed, count, total, skipped, err := s.resealColumn(ctx, tx, c)
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
			out.Count += count
			out.Total += total
			out.Skipped = append(out.Skipped, skipped...)
		}
		if s.cfg.EndpointsRewritten != nil {
			s.cfg.EndpointsRewritten()
		}
		return nil
	})
	if err != nil {
		return hookline.Resealed{}, fmt.Errorf("re-sealing secrets: %w", err)
	}
	return out, nil
}

// resealColumn reads c's rows and returns the new value of each that needs
// re-sealing, how many secrets those hold, how many rows hold a secret in
// the column, and the values that did not open, named by column and row.
func (s *Shared) resealColumn(ctx context.Context, tx Execer, c secretColumn) (map[string]string, int, int, []string, error) {
	// In key order: CompleteTasks locks endpoint rows in id order too, so
	// a re-seal under load waits for it rather than deadlocking with it.
	rows, err := tx.Query(ctx, s.cfg.Dialect.Bind(`SELECT `+c.key+`, CAST(`+c.column+` AS TEXT) FROM `+c.table+` ORDER BY `+c.key+s.cfg.Dialect.ForUpdate))
	if err != nil {
		return nil, 0, 0, nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	n, total := 0, 0
	var skipped []string
	for rows.Next() {
		var key, v string
		if err := rows.Scan(&key, &v); err != nil {
			return nil, 0, 0, nil, err
		}
		nv, count, values, err := s.resealValue(c, key, v)
		if values > 0 {
			total++ // counted as Skipped names them: by column of a row
		}
		var unopened *unopenedError
		switch {
		case errors.As(err, &unopened):
			skipped = append(skipped, fmt.Sprintf("%s.%s of %s: %v", c.table, c.column, key, unopened.err))
			if count == 0 {
				continue
			}
		case err != nil:
			return nil, 0, 0, nil, fmt.Errorf("%s: %w", key, err)
		}
		if count > 0 {
			out[key] = nv
			n += count
		}
	}
	return out, n, total, skipped, rows.Err()
}

// unopenedError is a value the sealer did not open: resealValue leaves it
// as it is, and ResealSecrets reports it.
type unopenedError struct{ err error }

func (e *unopenedError) Error() string { return e.err.Error() }

// resealValue returns stored, the value of c in the row keyed key,
// re-sealed, how many secrets it rewrote and how many it holds. Values
// that do not open stay as they are, and make the error an
// *unopenedError (with the others of a header column re-sealed all the
// same).
func (s *Shared) resealValue(c secretColumn, key, stored string) (string, int, int, error) {
	use := hookline.SecretUse{Column: c.purpose, Row: key}
	if !c.headers {
		if stored == "" {
			return stored, 0, 0, nil
		}
		v, changed, err := s.cfg.Sealer.Reseal(use, stored)
		if err != nil {
			return stored, 0, 1, &unopenedError{err}
		}
		if !changed {
			return stored, 0, 1, nil
		}
		return v, 1, 1, nil
	}
	var h hookline.Headers
	if err := json.Unmarshal([]byte(stored), &h); err != nil {
		return "", 0, 0, fmt.Errorf("decoding headers: %w", err)
	}
	resealed := make(hookline.Headers, len(h))
	n, total := 0, 0
	var unopened error
	for name, v := range h {
		if v != "" {
			total++
		}
		nv, changed, err := s.cfg.Sealer.Reseal(use, v)
		switch {
		case err != nil:
			nv = v
			if unopened == nil {
				unopened = &unopenedError{fmt.Errorf("the value of header %s: %w", name, err)}
			}
		case changed:
			n++
		}
		resealed[name] = nv
	}
	if n == 0 {
		return stored, 0, total, unopened
	}
	b, err := json.Marshal(resealed)
	if err != nil {
		return "", 0, 0, fmt.Errorf("encoding headers: %w", err)
	}
	return string(b), n, total, unopened
}
