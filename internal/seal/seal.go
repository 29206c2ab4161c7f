// Package seal owns how Hookline keeps secrets at rest: endpoint signing
// secrets, endpoints' static header values and source secrets are sealed
// with AES-256-GCM under a key that never enters the database, so a copy
// of the database without its key reveals no secret. A Keyring holds the current key, which seals, and
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

// prefix starts every sealed value: "hlseal1:<key id>:<base64url of
// nonce, ciphertext and tag>". A stored value without it is plain text
// written before sealing existed, which Open returns as it is and the
// server's start re-seals.
const prefix = "hlseal1:"

// aad binds a sealed value to its use, so no other AES-GCM ciphertext
// under the same key can pass for one.
var aad = []byte("hookline secret at rest")

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

// Seal encrypts plain under the current key. The empty string, which
// means "no secret", stays empty.
func (kr *Keyring) Seal(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	kr.mu.RLock()
	k := kr.current
	kr.mu.RUnlock()
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	rand.Read(nonce)
	out := k.aead.Seal(nonce, nonce, []byte(plain), aad)
	return prefix + k.id + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal made; a value that is not sealed is returned as
// it is. It fails for a value sealed under a key the ring does not hold, or
// one that was altered.
func (kr *Keyring) Open(stored string) (string, error) {
	if !strings.HasPrefix(stored, prefix) {
		return stored, nil
	}
	id, data, ok := strings.Cut(stored[len(prefix):], ":")
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
	plain, err := k.aead.Open(nil, raw[:k.aead.NonceSize()], raw[k.aead.NonceSize():], aad)
	if err != nil {
		return "", fmt.Errorf("a secret sealed under key %s does not open: it was altered", id)
	}
	return string(plain), nil
}

// Fresh reports whether stored needs no re-sealing: it is empty or sealed
// under the current key.
func (kr *Keyring) Fresh(stored string) bool {
	if stored == "" {
		return true
	}
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return strings.HasPrefix(stored, prefix+kr.current.id+":")
}
