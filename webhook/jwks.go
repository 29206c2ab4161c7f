package webhook

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// JWK is an ed25519 public key as a JSON Web Key (RFC 7517), in the
// Octet Key Pair form of RFC 8037: kty "OKP", crv "Ed25519", x the
// unpadded base64url of the 32-byte key.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	// D is a private key's seed. A published set must not hold one:
	// NewVerifierJWKS refuses a set that does.
	D string `json:"d,omitempty"`
}

// JWKSet is a JWK set: {"keys": [...]}.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// NewJWK returns the JWK of a "whpk_" public key, with key id kid, marked
// for signatures (use "sig", alg "EdDSA").
func NewJWK(publicKey, kid string) (JWK, error) {
	pub, err := decodePublicKey(publicKey)
	if err != nil {
		return JWK{}, err
	}
	return JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub), Kid: kid, Use: "sig", Alg: "EdDSA"}, nil
}

// PublicKey returns k as a "whpk_" public key. It fails unless k is an
// ed25519 key for signatures: kty "OKP", crv "Ed25519", a 32-byte x, use
// "sig" or none, alg "EdDSA", "Ed25519" (RFC 9864) or none.
func (k JWK) PublicKey() (string, error) {
	pub, err := k.ed25519()
	if err != nil {
		return "", err
	}
	return encodePublicKey(pub), nil
}

func (k JWK) ed25519() (ed25519.PublicKey, error) {
	if k.Kty != "OKP" || k.Crv != "Ed25519" {
		return nil, fmt.Errorf("JWK %q: kty %q, crv %q; want OKP, Ed25519", k.Kid, k.Kty, k.Crv)
	}
	if k.Use != "" && k.Use != "sig" {
		return nil, fmt.Errorf("JWK %q: use %q, want sig", k.Kid, k.Use)
	}
	if k.Alg != "" && k.Alg != "EdDSA" && k.Alg != "Ed25519" {
		return nil, fmt.Errorf("JWK %q: alg %q, want EdDSA", k.Kid, k.Alg)
	}
	raw, err := base64.RawURLEncoding.DecodeString(k.X)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("JWK %q: x is not the unpadded base64url of a %d-byte key", k.Kid, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// Thumbprint returns the RFC 7638 thumbprint of a "whpk_" public key: the
// unpadded base64url SHA-256 of its canonical JWK,
// {"crv":"Ed25519","kty":"OKP","x":"…"}. It names the key, and only that
// key, whatever else its JWK says, so a receiver can pin it.
func Thumbprint(publicKey string) (string, error) {
	pub, err := decodePublicKey(publicKey)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// PinKeySet returns a pin for NewVerifierJWKS that trusts the kids of key
// set keySet: those that start with keySet and a dot, as Hookline's
// "<key set>.<thumbprint>" kids do. An empty keySet trusts nothing.
func PinKeySet(keySet string) func(kid string) bool {
	return func(kid string) bool {
		return keySet != "" && strings.HasPrefix(kid, keySet+".")
	}
}

// NewVerifierJWKS returns a Verifier that checks v1a signatures against the
// ed25519 keys of a JWK set, such as the one Hookline publishes at
// /.well-known/webhook-keys. pin chooses the keys to trust by their kid.
//
// A set usually holds the keys of many endpoints, of many customers: trust
// every key in it and a signature made for someone else's endpoint passes
// as one for yours. So pin is required unless the set holds exactly one
// ed25519 key; nil with more is an error rather than a quiet trust of them
// all. Pin the kids of your endpoint's keys, which also keeps each check
// to them. Hookline's kid is "<key set>.<thumbprint>": the endpoint's key
// set ("ks_…", shown beside its public key), which stays the same when
// the endpoint's key is rotated and says nothing of the endpoint, then the
// key's RFC 7638 Thumbprint. Pin the key set with PinKeySet and a set
// fetched again after a rotation verifies the new key too.
//
// Keys of other types (RSA, EC, X25519) are skipped, as RFC 7517 asks. It
// returns an error when jwks is not a JWK set, an ed25519 key in it is
// malformed or holds a private part ("d"), pin is nil and the set holds
// more than one ed25519 key, or no key is left to trust.
func NewVerifierJWKS(jwks []byte, pin func(kid string) bool) (*Verifier, error) {
	var set JWKSet
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, fmt.Errorf("creating verifier: not a JWK set: %w", err)
	}
	v := &Verifier{}
	eds := 0
	for _, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" {
			continue
		}
		eds++
		if k.D != "" {
			return nil, fmt.Errorf("creating verifier: JWK %q holds a private key (d); a published set must hold public keys only", k.Kid)
		}
		if pin != nil && !pin(k.Kid) {
			continue
		}
		pub, err := k.ed25519()
		if err != nil {
			return nil, fmt.Errorf("creating verifier: %w", err)
		}
		v.add(verifyKey{pub: pub})
	}
	if pin == nil && eds > 1 {
		return nil, fmt.Errorf("creating verifier: the JWK set has %d Ed25519 keys, likely of other endpoints too; "+
			"pass a pin that trusts your endpoint's kids only", eds)
	}
	if len(v.keys) == 0 {
		return nil, fmt.Errorf("creating verifier: the JWK set has no trusted Ed25519 key (%d %s in all)",
			len(set.Keys), plural(len(set.Keys), "key", "keys"))
	}
	return v, nil
}
