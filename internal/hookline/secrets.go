package hookline

import (
	"context"
	"fmt"
)

// SecretSealer seals secrets at rest (internal/seal): a store seals
// endpoint and source secrets, and endpoints' static header values, as it
// writes them and opens them as it reads them, so the database alone never
// holds one in the clear.
type SecretSealer interface {
	// Seal encrypts plain for storage; "" stays "".
	Seal(plain string) (string, error)
	// Open decrypts what Seal stored. A plain value, stored before secrets
	// were sealed, comes back as it is.
	Open(stored string) (string, error)
	// Fresh reports whether stored is "" or sealed under the current key,
	// so that ResealSecrets may leave it.
	Fresh(stored string) bool
}

// PlainSecrets stores secrets as they are: the stores' default, for tests
// and tools that hold no key.
type PlainSecrets struct{}

// Seal returns plain.
func (PlainSecrets) Seal(plain string) (string, error) { return plain, nil }

// Open returns stored.
func (PlainSecrets) Open(stored string) (string, error) { return stored, nil }

// Fresh is always true: there is nothing to re-seal.
func (PlainSecrets) Fresh(string) bool { return true }

// SecretStore re-seals what a store keeps sealed.
type SecretStore interface {
	// ResealSecrets rewrites every endpoint secret, previous secret, static
	// header value and source secret that is not Fresh under the store's sealer: plain
	// values from before sealing, and values sealed under an older key. It
	// returns how many values it rewrote, and fails, changing nothing, when
	// one does not open.
	ResealSecrets(ctx context.Context) (int, error)
}

// SealAll seals each of plain with s, in order.
func SealAll(s SecretSealer, plain ...string) ([]string, error) {
	out := make([]string, len(plain))
	for i, p := range plain {
		v, err := s.Seal(p)
		if err != nil {
			return nil, fmt.Errorf("sealing a secret: %w", err)
		}
		out[i] = v
	}
	return out, nil
}

// OpenAll opens each stored value in place with s.
func OpenAll(s SecretSealer, stored ...*string) error {
	for _, p := range stored {
		v, err := s.Open(*p)
		if err != nil {
			return err
		}
		*p = v
	}
	return nil
}

// SealHeaders returns a copy of h with each value sealed with s: static
// header values are a receiver's credentials (Authorization, tokens). The
// names stay readable; the API lists them and they are no secret.
func SealHeaders(s SecretSealer, h Headers) (Headers, error) {
	out := make(Headers, len(h))
	for name, value := range h {
		v, err := s.Seal(value)
		if err != nil {
			return nil, fmt.Errorf("sealing the value of header %s: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}

// OpenHeaders opens each value of h in place with s.
func OpenHeaders(s SecretSealer, h Headers) error {
	for name, stored := range h {
		v, err := s.Open(stored)
		if err != nil {
			return fmt.Errorf("the value of header %s: %w", name, err)
		}
		h[name] = v
	}
	return nil
}

// ResealHeaders returns h with every value that is not Fresh under s
// sealed under its current key, and how many values it rewrote; h is
// returned as it is when none was.
func ResealHeaders(s SecretSealer, h Headers) (Headers, int, error) {
	out := make(Headers, len(h))
	n := 0
	for name, stored := range h {
		v, changed, err := Reseal(s, stored)
		if err != nil {
			return nil, 0, fmt.Errorf("the value of header %s: %w", name, err)
		}
		if changed {
			n++
		}
		out[name] = v
	}
	if n == 0 {
		return h, 0, nil
	}
	return out, n, nil
}

// Reseal returns stored sealed under s's current key, and false when it
// already is (Fresh).
func Reseal(s SecretSealer, stored string) (string, bool, error) {
	if s.Fresh(stored) {
		return stored, false, nil
	}
	plain, err := s.Open(stored)
	if err != nil {
		return "", false, err
	}
	v, err := s.Seal(plain)
	if err != nil {
		return "", false, fmt.Errorf("sealing a secret: %w", err)
	}
	return v, true, nil
}
