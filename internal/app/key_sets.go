package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/webhook"
)

// An endpoint's key set id names its keys in /.well-known/webhook-keys:
// each key's kid is "<key set id>.<RFC 7638 thumbprint>". A receiver pins
// the prefix "<key set id>." and so follows a rotation without a change
// of its own (webhook.PinKeySet). The route is public, so the id must say
// nothing of the endpoint: it is the HMAC-SHA256 of the endpoint's id
// under a server-wide secret, cut to 16 bytes, which no one without the
// secret can link to an endpoint id or make for one.

// keySetSecretSetting names the setting that holds that secret. It is
// made once, by the first node that needs it, and kept in the store's
// settings: not the sealing key, which `secrets rotate-key` changes, so
// that a key set id outlives a re-sealing, a restart and the node that
// computed it.
const keySetSecretSetting = "webhook.key_set_secret"

// KeySetPrefix starts every key set id.
const KeySetPrefix = "ks_"

// keySetIDEncoding writes key set ids: lowercase base32, no padding, no
// dot (the dot ends the id in a kid).
var keySetIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// keySetSecret caches the secret of keySetSecretSetting once read.
type keySetSecret struct {
	mu  sync.Mutex
	key []byte
}

// load returns the secret, making and storing it on first use. A failed
// read is tried again by the next call.
func (k *keySetSecret) load(ctx context.Context, store hookline.Store) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != nil {
		return k.key, nil
	}
	v, err := store.Setting(ctx, keySetSecretSetting)
	if hookline.ErrorCode(err) == hookline.ENOTFOUND {
		// Nodes starting together may all get here: the first value
		// stored wins, and each of them gets that one back.
		fresh := make([]byte, 32)
		rand.Read(fresh) // never fails (crypto/rand)
		v, err = store.InitSetting(ctx, keySetSecretSetting, base64.RawURLEncoding.EncodeToString(fresh))
	}
	if err != nil {
		return nil, fmt.Errorf("reading the key set secret: %w", err)
	}
	key, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("setting %s is not a secret of 16 bytes or more in base64url", keySetSecretSetting)
	}
	k.key = key
	return key, nil
}

// keySetID is endpoint endpointID's key set id under secret.
func keySetID(secret []byte, endpointID string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(endpointID))
	return KeySetPrefix + strings.ToLower(keySetIDEncoding.EncodeToString(mac.Sum(nil)[:16]))
}

// publishesKeys reports whether an endpoint signing with secrets has a key
// in the JWK set, or would have once enabled: an ed25519 key, its own or
// the previous one during an overlap.
func publishesKeys(secrets []string) bool {
	for _, s := range secrets {
		if webhook.IsSecretKey(s) {
			return true
		}
	}
	return false
}

// KeySet returns the key set id of endpoint e's keys in
// /.well-known/webhook-keys: the prefix of their kids, the same for every
// key e will ever have. It is "" for an endpoint with no ed25519 key.
func (a *App) KeySet(ctx context.Context, e *hookline.Endpoint) (string, error) {
	if !publishesKeys(e.Secrets(a.cfg.Now())) {
		return "", nil
	}
	secret, err := a.keySets.load(ctx, a.cfg.Store)
	if err != nil {
		return "", err
	}
	return keySetID(secret, e.ID), nil
}
