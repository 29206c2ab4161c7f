package app

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/webhook"
)

// webhookKeysTTL is how long a node serves the JWK set it built before
// building it again. Changes made through this node drop it at once; one
// made through another node of a cluster shows within the TTL, well inside
// a rotation's overlap, during which the old key still signs.
const webhookKeysTTL = 10 * time.Second

// webhookKeysBuildTimeout bounds one build of the JWK set. A build is
// shared by every request that waits for it, so it runs on its own
// context rather than on the request that happened to start it.
const webhookKeysBuildTimeout = 30 * time.Second

// keyCache holds the JWK set of /.well-known/webhook-keys, encoded. The
// route is public: building the set reads every endpoint, which a stranger
// must not be able to make the server do on each request. Concurrent
// misses share one build; a change of keys (forget) never waits for a
// build, which a stranger may have started.
type keyCache struct {
	// gen counts the changes of keys made through this node. A set built
	// from a listing that began under another gen may miss the change.
	gen    atomic.Uint64
	set    atomic.Pointer[WebhookKeySet]
	builds singleflight.Group
}

// WebhookKeySet is the JWK set of /.well-known/webhook-keys, encoded.
type WebhookKeySet struct {
	Body []byte
	// ETag names this Body: a strong validator, quoted, that changes
	// whenever a key is added or dropped.
	ETag  string
	built time.Time
	gen   uint64
}

// forget drops the cached set after a change to an endpoint's keys. It
// takes no lock: a build under way when it runs is not kept.
func (c *keyCache) forget() {
	c.gen.Add(1)
}

// fresh reports whether set can be served at now: it was built under the
// current generation, within the TTL (and not in the future of a clock
// that went back).
func (c *keyCache) fresh(set *WebhookKeySet, now time.Time) bool {
	return set != nil && set.gen == c.gen.Load() && now.Sub(set.built) < webhookKeysTTL && !now.Before(set.built)
}

// WebhookKeys returns the JWK set of /.well-known/webhook-keys, encoded:
// the public key of every enabled endpoint that signs with ed25519, and
// the previous key of one whose rotation overlap still lasts, so that a
// receiver can verify every signature a delivery carries. Requests that
// miss the cache together wait for one build; each stops waiting when its
// own ctx ends, without cutting the build short for the others.
func (a *App) WebhookKeys(ctx context.Context) (*WebhookKeySet, error) {
	c := &a.keys
	if set := c.set.Load(); c.fresh(set, a.cfg.Now()) {
		return set, nil
	}
	// Keyed by generation: a request that comes after a change does not
	// join a build that began before it.
	gen := c.gen.Load()
	done := c.builds.DoChan(strconv.FormatUint(gen, 10), func() (any, error) {
		// A build that ended between the check above and here has
		// just stored the set.
		if set := c.set.Load(); c.fresh(set, a.cfg.Now()) {
			return set, nil
		}
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), webhookKeysBuildTimeout)
		defer cancel()
		set, err := a.buildWebhookKeys(bctx, gen)
		if err != nil {
			return nil, err
		}
		// A change during the build makes it stale: serve it to those
		// who asked before the change, keep it for no one after.
		if c.gen.Load() == gen {
			c.set.Store(set)
		}
		return set, nil
	})
	select {
	case res := <-done:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*WebhookKeySet), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the JWK set: %w", context.Cause(ctx))
	}
}

// buildWebhookKeys lists every endpoint for the JWK set.
func (a *App) buildWebhookKeys(ctx context.Context, gen uint64) (*WebhookKeySet, error) {
	now := a.cfg.Now()
	keySetKey, err := a.keySets.load(ctx, a.cfg.Store)
	if err != nil {
		return nil, err
	}
	set := webhook.JWKSet{Keys: []webhook.JWK{}}
	// A key listed twice under one kid (an endpoint rotated to the key it
	// had, with an overlap) is listed once: a kid names one key. The same
	// key given to two endpoints is two kids, one under each key set.
	listed := map[string]bool{}
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
			for _, key := range e.Secrets(now) {
				if !webhook.IsSecretKey(key) {
					continue
				}
				jwk, err := endpointJWK(keySetID(keySetKey, e.ID), key)
				if err != nil {
					// A key that does not decode signs nothing either;
					// the endpoint's deliveries fail and say so.
					a.cfg.Logger.Warn("endpoint key left out of the JWK set", "endpoint", e.ID, "err", err)
					continue
				}
				if !listed[jwk.Kid] {
					listed[jwk.Kid] = true
					set.Keys = append(set.Keys, jwk)
				}
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
	sum := sha256.Sum256(body)
	return &WebhookKeySet{
		Body: body, ETag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`,
		built: now, gen: gen,
	}, nil
}

// endpointJWK returns the JWK of the public half of an endpoint's secret
// key, with the kid "<key set id>.<RFC 7638 thumbprint>". The route is
// public: the key set id (keySetID) says nothing of the endpoint, whose id
// would list every tenant's endpoints to anyone who asks, yet stays the
// same across the endpoint's rotations, so that a receiver pinning the
// prefix "<key set id>." takes the new key without a change of its own.
func endpointJWK(keySet, secretKey string) (webhook.JWK, error) {
	pk, err := webhook.PublicKey(secretKey)
	if err != nil {
		return webhook.JWK{}, err
	}
	tp, err := webhook.Thumbprint(pk)
	if err != nil {
		return webhook.JWK{}, err
	}
	return webhook.NewJWK(pk, keySet+"."+tp)
}
