package hookline

import (
	"context"
	"fmt"
)

// SecretUse is where a sealed value lies: its column (a constant per
// column, such as "endpoints.secret") and its row's key (an endpoint's or
// a source's id). A value is sealed for one use and opens only for it, so
// a value copied elsewhere in the database does not open there.
type SecretUse struct {
	Column, Row string
}

// SecretSealer seals secrets at rest (internal/seal): a store seals
// endpoint and source secrets, and endpoints' static header values, as it
// writes them and opens them as it reads them, so the database alone never
// holds one in the clear.
type SecretSealer interface {
	// Seal encrypts plain for storage in use; "" stays "".
	Seal(use SecretUse, plain string) (string, error)
	// Open decrypts what Seal stored for the same use.
	Open(use SecretUse, stored string) (string, error)
	// Reseal returns stored sealed for use under the current key, and
	// false when it already is; it also upgrades values stored before the
	// sealer's current form (plain text, values not bound to their use),
	// which Open refuses. Only ResealSecrets calls it.
	Reseal(use SecretUse, stored string) (string, bool, error)
}

// PlainSecrets stores secrets as they are: the stores' default, for tests
// and tools that hold no key.
type PlainSecrets struct{}

// Seal returns plain.
func (PlainSecrets) Seal(_ SecretUse, plain string) (string, error) { return plain, nil }

// Open returns stored.
func (PlainSecrets) Open(_ SecretUse, stored string) (string, error) { return stored, nil }

// Reseal has nothing to re-seal.
func (PlainSecrets) Reseal(_ SecretUse, stored string) (string, bool, error) {
	return stored, false, nil
}

// SecretStore re-seals what a store keeps sealed.
type SecretStore interface {
	// ResealSecrets rewrites every endpoint secret, previous secret, static
	// header value and source secret that is not sealed for its place under the store's
	// sealer's current key: plain values from before sealing, values sealed
	// before they were bound to their place, values sealed under an older
	// key. A value that does not open (copied from another row, sealed
	// under a key the sealer lacks, altered) is left as it is and reported
	// in Resealed.Skipped: one bad row does not keep the others sealed
	// under an old key, nor the server from starting.
	ResealSecrets(ctx context.Context) (Resealed, error)
}

// Resealed is the outcome of ResealSecrets.
type Resealed struct {
	// Count is how many values were rewritten.
	Count int
	// Total is how many columns of rows hold a sealed value (an
	// endpoint's headers count once), as Skipped names them.
	Total int
	// Skipped names each value left as it was because it did not open:
	// "<table>.<column> of <row id>: <why>", never the value.
	Skipped []string
}

// SealHeaders returns a copy of h with each value sealed with s for use:
// static header values are a receiver's credentials (Authorization,
// tokens). The names stay readable; the API lists them and they are no
// secret.
func SealHeaders(s SecretSealer, use SecretUse, h Headers) (Headers, error) {
	out := make(Headers, len(h))
	for name, value := range h {
		v, err := s.Seal(use, value)
		if err != nil {
			return nil, fmt.Errorf("sealing the value of header %s: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}

// OpenHeaders opens each value of h in place with s for use.
func OpenHeaders(s SecretSealer, use SecretUse, h Headers) error {
	for name, stored := range h {
		v, err := s.Open(use, stored)
		if err != nil {
			return fmt.Errorf("the value of header %s: %w", name, err)
		}
		h[name] = v
	}
	return nil
}

// UnopenedError is the ECONFLICT of revealing the secrets of
// an endpoint whose sealed values did not open (e.SealErr), saying how to
// mend it.
func UnopenedError(e *Endpoint) *Error {
	return &Error{Code: ECONFLICT,
		Message: fmt.Sprintf("the secrets of endpoint %s cannot be opened: %v; %s", e.ID, e.SealErr.Err, e.SealErr.Fix())}
}

// Fix says what mends the endpoint: what its owner must replace.
func (e *SealError) Fix() string {
	switch {
	case e.Headers && (e.Secret || e.PreviousSecret):
		return "rotate its secret (POST /v1/endpoints/{id}/secret/rotate) and set its headers anew (PATCH /v1/endpoints/{id})"
	case e.Headers:
		return "set its headers anew (PATCH /v1/endpoints/{id})"
	}
	return "rotate its secret (POST /v1/endpoints/{id}/secret/rotate)"
}
