package app

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/webhook"
)

// webhookKeysTTL is how long a node serves the JWK set it built before
// building it again. Changes made through this node drop it at once; one
// made through another node of a cluster shows within the TTL, well inside
// a rotation's overlap, during which the old key still signs.
const webhookKeysTTL = 10 * time.Second

// keyCache holds the JWK set of /.well-known/webhook-keys, encoded. The
// route is public: building the set reads every endpoint, which a stranger
// must not be able to make the server do on each request.
type keyCache struct {
	mu    sync.Mutex // held while building, so concurrent misses build once
	built time.Time
	body  []byte
}

// forget drops the cached set after a change to an endpoint's keys.
func (c *keyCache) forget() {
	c.mu.Lock()
	c.body = nil
	c.mu.Unlock()
}

// KeyID is the kid of an endpoint's public key in the JWK set:
// "<endpoint id>.<RFC 7638 thumbprint>". A receiver pins its endpoint by
// the prefix "<endpoint id>.", or one key by the whole kid; the thumbprint
// names the key alone, so a kid never changes meaning.
func KeyID(endpointID, publicKey string) (string, error) {
	tp, err := webhook.Thumbprint(publicKey)
	if err != nil {
		return "", err
	}
	return endpointID + "." + tp, nil
}

// WebhookKeys returns the JWK set of /.well-known/webhook-keys, encoded:
// the public key of every enabled endpoint that signs with ed25519, and
// the previous key of one whose rotation overlap still lasts, so that a
// receiver can verify every signature a delivery carries.
func (a *App) WebhookKeys(ctx context.Context) ([]byte, error) {
	c := &a.keys
	c.mu.Lock()
	defer c.mu.Unlock()
	now := a.cfg.Now()
	if c.body != nil && now.Sub(c.built) < webhookKeysTTL && !now.Before(c.built) {
		return c.body, nil
	}
	set := webhook.JWKSet{Keys: []webhook.JWK{}}
	page := hookline.Page{Limit: 100}
	for {
		eps, more, err := a.cfg.Store.ListEndpoints(ctx, hookline.EndpointFilter{Page: page})
		if err != nil {
			return nil, fmt.Errorf("listing endpoints for their keys: %w", err)
		}
		for _, e := range eps {
			if e.Status != hookline.EndpointEnabled {
				continue
			}
			for _, secret := range e.Secrets(now) {
				if !webhook.IsSecretKey(secret) {
					continue
				}
				jwk, err := endpointJWK(e.ID, secret)
				if err != nil {
					// A key that does not decode signs nothing either;
					// the endpoint's deliveries fail and say so.
					a.cfg.Logger.Warn("endpoint key left out of the JWK set", "endpoint", e.ID, "err", err)
					continue
				}
				set.Keys = append(set.Keys, jwk)
			}
		}
		if !more || len(eps) == 0 {
			break
		}
		page.StartingAfter = eps[len(eps)-1].ID
	}
	body, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("encoding the JWK set: %w", err)
	}
	c.body, c.built = body, now
	return body, nil
}

func endpointJWK(endpointID, secretKey string) (webhook.JWK, error) {
	pk, err := webhook.PublicKey(secretKey)
	if err != nil {
		return webhook.JWK{}, err
	}
	kid, err := KeyID(endpointID, pk)
	if err != nil {
		return webhook.JWK{}, err
	}
	return webhook.NewJWK(pk, kid)
}
