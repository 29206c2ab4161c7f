package webhook

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Standard Webhooks serializes an asymmetric (ed25519) key pair with these
// prefixes, so that a key says which scheme it is for: a sender signs with
// the secret key, a receiver verifies with the public key.
const (
	SecretKeyPrefix = "whsk_"
	PublicKeyPrefix = "whpk_"
)

// sigLenV1a is the length of "v1a," followed by the base64 of an ed25519
// signature (64 bytes: 88 characters with "==").
const sigLenV1a = len("v1a,") + 88

// NewKeyPair returns a new random ed25519 key pair in the Standard Webhooks
// serialization: secretKey is "whsk_" followed by the base64 of the 32-byte
// seed (RFC 8032's private key), publicKey "whpk_" followed by the base64 of
// the 32-byte public key. The sender keeps secretKey; publicKey can be given
// to anyone.
func NewKeyPair() (secretKey, publicKey string) {
	// ed25519.GenerateKey reads crypto/rand, which cannot fail since Go 1.24.
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	return SecretKeyPrefix + base64.StdEncoding.EncodeToString(priv.Seed()),
		PublicKeyPrefix + base64.StdEncoding.EncodeToString(pub)
}

// PublicKey returns the "whpk_" public key of a "whsk_" secret key.
func PublicKey(secretKey string) (string, error) {
	priv, err := decodeSecretKey(secretKey)
	if err != nil {
		return "", err
	}
	return encodePublicKey(priv.Public().(ed25519.PublicKey)), nil
}

func encodePublicKey(pub ed25519.PublicKey) string {
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(pub)
}

// decodeSecretKey decodes a "whsk_" secret key. Libraries disagree on what
// follows the prefix: the base64 of the 32-byte seed (RFC 8032's private
// key, which Python's cryptography and Go's Seed give) or of the 64-byte
// seed-and-public-key form (what Go's ed25519.PrivateKey and libsodium
// hold). Both are taken; in the long form the public half must belong to
// the seed, or the key is corrupt.
func decodeSecretKey(secretKey string) (ed25519.PrivateKey, error) {
	if !strings.HasPrefix(secretKey, SecretKeyPrefix) {
		return nil, fmt.Errorf("decoding webhook secret key: not %q followed by standard base64", SecretKeyPrefix)
	}
	raw, err := base64.StdEncoding.DecodeString(secretKey[len(SecretKeyPrefix):])
	if err != nil {
		return nil, fmt.Errorf("decoding webhook secret key: not %q followed by standard base64: %w", SecretKeyPrefix, err)
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ed25519.PrivateKeySize:
		priv := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
		if !bytes.Equal(priv[ed25519.SeedSize:], raw[ed25519.SeedSize:]) {
			return nil, errors.New("decoding webhook secret key: its public half does not belong to its seed")
		}
		return priv, nil
	}
	return nil, fmt.Errorf("decoding webhook secret key: %d bytes, want a %d-byte ed25519 seed (or the %d-byte seed and public key)",
		len(raw), ed25519.SeedSize, ed25519.PrivateKeySize)
}

// decodePublicKey decodes a "whpk_" public key.
func decodePublicKey(publicKey string) (ed25519.PublicKey, error) {
	if !strings.HasPrefix(publicKey, PublicKeyPrefix) {
		return nil, fmt.Errorf("decoding webhook public key: not %q followed by standard base64", PublicKeyPrefix)
	}
	raw, err := base64.StdEncoding.DecodeString(publicKey[len(PublicKeyPrefix):])
	if err != nil {
		return nil, fmt.Errorf("decoding webhook public key: not %q followed by standard base64: %w", PublicKeyPrefix, err)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("decoding webhook public key: %d bytes, want %d", len(raw), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// IsSecretKey reports whether secret is an ed25519 secret key ("whsk_…"),
// which signs v1a, rather than an HMAC secret, which signs v1. It looks at
// the prefix only.
func IsSecretKey(secret string) bool {
	return strings.HasPrefix(secret, SecretKeyPrefix)
}
