package webhook

import (
	"crypto/ed25519"
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

// Signer signs messages with one Standard Webhooks secret: an HMAC secret
// ("whsec_…"), which signs v1, or an ed25519 secret key ("whsk_…"), which
// signs v1a. It decodes the secret once, in [NewSigner], and keeps scratch
// state for reuse, so signing costs little more than the hashing.
//
// A Signer is safe for concurrent use.
type Signer struct {
	key  []byte             // the HMAC key; nil for an ed25519 signer
	priv ed25519.PrivateKey // the ed25519 key; nil for an HMAC signer
	pool sync.Pool          // of *macState
}

// macState is one reusable keyed HMAC with scratch space, so that signing
// allocates nothing but the returned string. An ed25519 signer has no h and
// uses prefix for the whole signed message, which ed25519 takes in one
// piece.
type macState struct {
	h      hash.Hash
	prefix []byte // "<msgID>.<unix>.", or the whole message for ed25519
	sum    [sha256.Size]byte
}

// NewSigner returns a Signer for secret: "whsec_<base64>" or just the
// base64 part for HMAC (v1), or "whsk_<base64>" for ed25519 (v1a). It
// returns an error when the base64 is invalid or the key is empty or, for
// ed25519, not a key; and for a "whpk_" public key, which verifies but
// cannot sign.
func NewSigner(secret string) (*Signer, error) {
	switch {
	case strings.HasPrefix(secret, SecretKeyPrefix):
		priv, err := decodeSecretKey(secret)
		if err != nil {
			return nil, err
		}
		s := &Signer{priv: priv}
		s.pool.New = func() any { return &macState{} }
		return s, nil
	case strings.HasPrefix(secret, PublicKeyPrefix):
		return nil, fmt.Errorf("a %q public key verifies signatures but cannot make them: sign with its %q secret key", PublicKeyPrefix, SecretKeyPrefix)
	}
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

// Sign returns the Standard Webhooks signature of a message: "v1,"
// followed by the base64 of HMAC-SHA256 over "<msgID>.<unix ts>.<body>", or
// for an ed25519 signer "v1a," followed by the base64 of the ed25519
// signature of the same bytes. Only whole seconds of ts count. Put the
// result in the [HeaderSignature] header; join several with spaces to sign
// with more than one secret.
func (s *Signer) Sign(msgID string, ts time.Time, body []byte) string {
	if s.priv != nil {
		var out [sigLenV1a]byte
		copy(out[:], "v1a,")
		st := s.pool.Get().(*macState)
		st.prefix = appendSigned(st.prefix[:0], msgID, ts.Unix(), body)
		base64.StdEncoding.Encode(out[4:], ed25519.Sign(s.priv, st.prefix))
		putMacState(&s.pool, st)
		return string(out[:])
	}
	var out [sigLen]byte
	copy(out[:], "v1,")
	st := s.mac(msgID, ts.Unix(), body)
	base64.StdEncoding.Encode(out[3:], st.sum[:])
	putMacState(&s.pool, st)
	return string(out[:])
}

// PublicKey returns the "whpk_" public key of an ed25519 signer, and ""
// for an HMAC one.
func (s *Signer) PublicKey() string {
	if s.priv == nil {
		return ""
	}
	return encodePublicKey(s.priv.Public().(ed25519.PublicKey))
}

// appendSigned appends the signed bytes of a message,
// "<msgID>.<unix>.<body>", to b.
func appendSigned(b []byte, msgID string, unix int64, body []byte) []byte {
	b = append(b, msgID...)
	b = append(b, '.')
	b = strconv.AppendInt(b, unix, 10)
	b = append(b, '.')
	return append(b, body...)
}

// mac computes the raw MAC into a pooled state's sum. The caller gives the
// state back with putMacState when done with sum.
func (s *Signer) mac(msgID string, unix int64, body []byte) *macState {
	st := s.pool.Get().(*macState)
	st.h.Reset()
	// The id and timestamp go in one Write from a reused buffer rather than
	// concatenating with the body, which would copy the whole body.
	st.prefix = appendSigned(st.prefix[:0], msgID, unix, nil)
	st.h.Write(st.prefix)
	st.h.Write(body)
	st.h.Sum(st.sum[:0])
	return st
}

// maxPooledBuffer is the largest buffer a macState goes back to its pool
// with: one huge message must not pin its copy in memory for good.
const maxPooledBuffer = 64 << 10

// putMacState puts st back into pool, without a buffer over
// maxPooledBuffer.
func putMacState(pool *sync.Pool, st *macState) {
	if cap(st.prefix) > maxPooledBuffer {
		st.prefix = nil
	}
	pool.Put(st)
}
