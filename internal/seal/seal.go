// Package seal owns how Hookline keeps secrets at rest: endpoint signing
// secrets, endpoints' static header values and source secrets are sealed
// with AES-256-GCM under a key that never enters the database, so a copy
// of the database without its key reveals no secret, and each value is
// bound to its column and row, so a copy elsewhere in the database does
// not open. A Keyring holds the current key, which seals, and
// older ones, which still open what they sealed until it is re-sealed
// (hookline secrets rotate-key). The stores call it at their boundary
// (hookline.SecretSealer); the server loads it from HOOKLINE_SECRET_KEY or
// the key file beside the data (LoadKeyring).
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hookline/hookline/internal/hookline"
)

// prefix starts every sealed value: "hlseal2:<key id>:<base64url of
// nonce, ciphertext and tag>", sealed for one use (hookline.SecretUse).
const prefix = "hlseal2:"

// legacyPrefix starts a value sealed before values were bound to their use:
// under one associated data for all, so any such value opens in any column
// of any row. Only Reseal opens one, to seal it anew for where it lies.
const legacyPrefix = "hlseal1:"

// legacyAAD is what hlseal1 values were bound to.
var legacyAAD = []byte("hookline secret at rest")

// aad binds a sealed value to its use: the column that holds it and the
// row's key. A value copied to another column or row (someone who can
// write the database but holds no key) does not open there, so Hookline
// never decrypts one endpoint's secret as another's header value and sends
// it to a URL the writer chose. The column is a constant without NUL, so
// the encoding is unambiguous.
func aad(use hookline.SecretUse) []byte {
	return []byte("hlseal2\x00" + use.Column + "\x00" + use.Row)
}

// KeySize is the length of a key: AES-256.
const KeySize = 32

// Keyring seals with its current key and opens with any of its keys. It is
// safe for concurrent use; Rotate changes the current key while it is used.
type Keyring struct {
	mu      sync.RWMutex
	current *key
	byID    map[string]*key
}

type key struct {
	id   string
	raw  []byte
	aead cipher.AEAD
}

var _ hookline.SecretSealer = (*Keyring)(nil)

func newKey(raw []byte) (*key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("a key is %d bytes, not %d", KeySize, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	return &key{id: hex.EncodeToString(sum[:4]), raw: append([]byte(nil), raw...), aead: aead}, nil
}

// NewKeyring returns a keyring whose first key seals; every key opens.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("no key")
	}
	kr := &Keyring{byID: map[string]*key{}}
	for i, raw := range keys {
		k, err := newKey(raw)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		if i == 0 {
			kr.current = k
		}
		kr.byID[k.id] = k
	}
	return kr, nil
}

// NewKey makes a random key.
func NewKey() []byte {
	k := make([]byte, KeySize)
	rand.Read(k) // never fails (crypto/rand)
	return k
}

// EncodeKey writes a key as hex, the form ParseKeys reads.
func EncodeKey(k []byte) string { return hex.EncodeToString(k) }

// ParseKeys reads keys separated by commas or new lines, each 64 hex
// digits or the standard base64 of 32 bytes; the first is the current.
func ParseKeys(s string) ([][]byte, error) {
	var out [][]byte
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' }) {
		k, err := hex.DecodeString(f)
		if err != nil || len(k) != KeySize {
			k, err = base64.StdEncoding.DecodeString(f)
		}
		if err != nil || len(k) != KeySize {
			return nil, fmt.Errorf("key %d is not %d bytes in hex (64 digits) or base64", len(out)+1, KeySize)
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, errors.New("no key")
	}
	return out, nil
}

// CurrentID is the id of the key that seals: the first 8 hex digits of its
// SHA-256, safe to print.
func (kr *Keyring) CurrentID() string {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.current.id
}

// Rotate makes raw the current key; the others still open.
func (kr *Keyring) Rotate(raw []byte) error {
	k, err := newKey(raw)
	if err != nil {
		return err
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kr.current = k
	kr.byID[k.id] = k
	return nil
}

// Retire forgets every key but the current one.
func (kr *Keyring) Retire() {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kr.byID = map[string]*key{kr.current.id: kr.current}
}

// Keys returns the raw keys, the current first.
func (kr *Keyring) Keys() [][]byte {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	out := [][]byte{kr.current.raw}
	for id, k := range kr.byID {
		if id != kr.current.id {
			out = append(out, k.raw)
		}
	}
	return out
}

// Seal encrypts plain under the current key for use. The empty string,
// which means "no secret", stays empty.
func (kr *Keyring) Seal(use hookline.SecretUse, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	if use.Column == "" || use.Row == "" {
		return "", fmt.Errorf("sealing a secret for %q of row %q: a sealed value needs its column and row", use.Column, use.Row)
	}
	kr.mu.RLock()
	k := kr.current
	kr.mu.RUnlock()
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	rand.Read(nonce)
	out := k.aead.Seal(nonce, nonce, []byte(plain), aad(use))
	return prefix + k.id + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// SealLegacy seals plain as Hookline did before values were bound to
// their use (hlseal1): what a database written then holds. It exists for
// the tests of the upgrade (Reseal); nothing else may write such a value.
func (kr *Keyring) SealLegacy(plain string) string {
	kr.mu.RLock()
	k := kr.current
	kr.mu.RUnlock()
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	return legacyPrefix + k.id + ":" + base64.RawURLEncoding.EncodeToString(k.aead.Seal(nonce, nonce, []byte(plain), legacyAAD))
}

// Open decrypts what Seal made for the same use. It refuses a value sealed
// for another column or row, under a key the ring does not hold, or
// altered; and, as the server's start re-seals every value (Reseal), a
// value sealed before values were bound to their use (hlseal1) or not
// sealed at all: either can only have been put there behind Hookline's
// back, and opening it would hand whoever did a secret of another row.
func (kr *Keyring) Open(use hookline.SecretUse, stored string) (string, error) {
	switch {
	case stored == "":
		return "", nil
	case strings.HasPrefix(stored, legacyPrefix):
		return "", fmt.Errorf("%s of %s was sealed by an older Hookline and not re-sealed since: restart the server to re-seal it", use.Column, use.Row)
	case !strings.HasPrefix(stored, prefix):
		return "", fmt.Errorf("%s of %s is not sealed: restart the server to seal it", use.Column, use.Row)
	}
	return kr.open(stored[len(prefix):], aad(use))
}

// open decrypts "<key id>:<data>" bound to ad.
func (kr *Keyring) open(sealed string, ad []byte) (string, error) {
	id, data, ok := strings.Cut(sealed, ":")
	kr.mu.RLock()
	k := kr.byID[id]
	kr.mu.RUnlock()
	if !ok || k == nil {
		return "", fmt.Errorf("a secret is sealed under key %s, which this server does not hold (HOOKLINE_SECRET_KEY or the secret_key file)", id)
	}
	raw, err := base64.RawURLEncoding.DecodeString(data)
	if err != nil || len(raw) < k.aead.NonceSize() {
		return "", errors.New("a sealed secret is malformed")
	}
	plain, err := k.aead.Open(nil, raw[:k.aead.NonceSize()], raw[k.aead.NonceSize():], ad)
	if err != nil {
		return "", fmt.Errorf("a secret sealed under key %s does not open here: it was altered or sealed for another column or row", id)
	}
	return string(plain), nil
}

// Reseal returns stored sealed for use under the current key, and false
// when it already is. It is the one path that opens what Open refuses:
// plain values from before sealing and hlseal1 values from before values
// were bound to their use, which it upgrades (the server's start and
// hookline secrets rotate-key call it through the stores' ResealSecrets).
func (kr *Keyring) Reseal(use hookline.SecretUse, stored string) (string, bool, error) {
	if stored == "" {
		return stored, false, nil
	}
	kr.mu.RLock()
	fresh := strings.HasPrefix(stored, prefix+kr.current.id+":")
	kr.mu.RUnlock()
	if fresh {
		return stored, false, nil
	}
	var plain string
	var err error
	switch {
	case strings.HasPrefix(stored, prefix):
		plain, err = kr.open(stored[len(prefix):], aad(use))
	case strings.HasPrefix(stored, legacyPrefix):
		plain, err = kr.open(stored[len(legacyPrefix):], legacyAAD)
	default:
		plain = stored
	}
	if err != nil {
		return "", false, err
	}
	v, err := kr.Seal(use, plain)
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}
