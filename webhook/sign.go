package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Standard Webhooks header names. Svix sends the same three headers with an
// "svix-" prefix instead; [Verifier.Verify] falls back to those.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every secret made by [NewSecret]. The rest of the
// secret is the standard base64 encoding of the HMAC key.
const SecretPrefix = "whsec_"

// secretBytes is the key length NewSecret draws: the SHA-256 output size,
// within the 24 to 64 bytes the Standard Webhooks spec recommends.
const secretBytes = 32

// sigLen is the length of "v1," followed by the base64 of a SHA-256 MAC.
const sigLen = len("v1,") + 44

// NewSecret returns a new random signing secret: "whsec_" followed by the
// base64 of 32 bytes from crypto/rand.
func NewSecret() string {
	var key [secretBytes]byte
	// crypto/rand.Read never returns an error since Go 1.24; it crashes the
	// program instead if the system's random source fails.
	_, _ = rand.Read(key[:])
	return SecretPrefix + base64.StdEncoding.EncodeToString(key[:])
}

// decodeSecret returns the HMAC key of a Standard Webhooks secret: the
// base64-decoded text after the optional "whsec_" prefix.
func decodeSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return nil, fmt.Errorf("decoding webhook secret: not %q followed by standard base64: %w", SecretPrefix, err)
	}
	if len(key) == 0 {
		return nil, errors.New("decoding webhook secret: empty key")
	}
	return key, nil
}

// Signer signs messages with one Standard Webhooks secret. It decodes the
// secret once, in [NewSigner], and keeps keyed HMAC states for reuse, so
// signing costs little more than hashing the body.
//
// A Signer is safe for concurrent use.
type Signer struct {
	key  []byte
	pool sync.Pool // of *macState
}

// macState is one reusable keyed HMAC with scratch space, so that signing
// allocates nothing but the returned string.
type macState struct {
	h      hash.Hash
	prefix []byte // "<msgID>.<unix>."
	sum    [sha256.Size]byte
}

// NewSigner returns a Signer for secret, which is "whsec_<base64>" or just
// the base64 part. It returns an error when the base64 is invalid or the key
// is empty.
func NewSigner(secret string) (*Signer, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return nil, err
	}
	s := &Signer{key: key}
	s.pool.New = func() any {
		return &macState{h: hmac.New(sha256.New, s.key)}
	}
	return s, nil
}

// Sign returns the Standard Webhooks signature of a message:
// "v1," followed by the base64 of HMAC-SHA256 over "<msgID>.<unix ts>.<body>".
// Only whole seconds of ts count. Put the result in the [HeaderSignature]
// header; join several with spaces to sign with more than one secret.
func (s *Signer) Sign(msgID string, ts time.Time, body []byte) string {
	var out [sigLen]byte
	copy(out[:], "v1,")
	st := s.mac(msgID, ts.Unix(), body)
	base64.StdEncoding.Encode(out[3:], st.sum[:])
	s.pool.Put(st)
	return string(out[:])
}

// mac computes the raw MAC into a pooled state's sum. The caller puts the
// state back into s.pool when done with sum.
func (s *Signer) mac(msgID string, unix int64, body []byte) *macState {
	st := s.pool.Get().(*macState)
	st.h.Reset()
	// The id and timestamp go in one Write from a reused buffer rather than
	// concatenating with the body, which would copy the whole body.
	st.prefix = append(st.prefix[:0], msgID...)
	st.prefix = append(st.prefix, '.')
	st.prefix = strconv.AppendInt(st.prefix, unix, 10)
	st.prefix = append(st.prefix, '.')
	st.h.Write(st.prefix)
	st.h.Write(body)
	st.h.Sum(st.sum[:0])
	if cap(st.prefix) > 1024 {
		// Do not let one huge message id pin memory in the pool.
		st.prefix = nil
	}
	return st
}
