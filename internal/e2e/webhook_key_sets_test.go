package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/webhook"
)

// keySetPattern is the form of an endpoint's key_set.
var keySetPattern = regexp.MustCompile(`^ks_[a-z2-7]{26}$`)

// TestWebhookKeySetPinned: a receiver that pins its endpoint's key set
// (the kid prefix "<key_set>.") in /.well-known/webhook-keys, and fetches
// the set again when a delivery does not verify, follows a rotation with
// no change of its own; the key set stays the same across the rotation,
// a `secrets rotate-key` and a restart; the public set names no endpoint.
// On both stores.
func TestWebhookKeySetPinned(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			args := withDB(t, db, []string{"--dev"})
			rc := newReceiver(t)
			n := startNode(t, t.TempDir(), args...)

			var ep, other keyedEndpoint
			n.must(201, "POST", "/v1/endpoints", map[string]any{"url": rc.URL, "signing": "ed25519", "enabled_events": []string{"mine.*"}}, &ep)
			n.must(201, "POST", "/v1/endpoints", map[string]any{"url": rc.URL + "/other", "signing": "ed25519", "enabled_events": []string{"other.*"}}, &other)
			hm := n.createEndpoint(map[string]any{"url": rc.URL + "/hmac", "enabled_events": []string{"other.*"}})
			if !keySetPattern.MatchString(ep.KeySet) || !keySetPattern.MatchString(other.KeySet) || ep.KeySet == other.KeySet {
				t.Fatalf("key sets %q and %q: want two distinct ks_ and 26 base32 letters", ep.KeySet, other.KeySet)
			}
			var got keyedEndpoint
			n.must(200, "GET", "/v1/endpoints/"+ep.ID, nil, &got)
			if got.KeySet != ep.KeySet {
				t.Fatalf("GET shows key set %q, create %q", got.KeySet, ep.KeySet)
			}
			if status, raw := n.call("GET", "/v1/endpoints/"+hm.ID, nil, nil); status != 200 || strings.Contains(string(raw), "key_set") {
				t.Fatalf("an HMAC endpoint: %d %s; want no key_set", status, raw)
			}

			// The receiver: the pin is the key set, written once.
			pin := webhook.PinKeySet(ep.KeySet)
			receive := func(set []byte) *webhook.Verifier {
				t.Helper()
				v, err := webhook.NewVerifierJWKS(set, pin)
				if err != nil {
					t.Fatalf("verifier pinned to key set %s: %v\n%s", ep.KeySet, err, set)
				}
				return v
			}
			// check fetches the set as a stranger would: it names no
			// endpoint, every kid is <key set>.<thumbprint>, and
			// endpoint ep's current key is under its key set.
			check := func(when string, publicKey string) []byte {
				t.Helper()
				set := webhookKeys(t, n)
				for _, id := range []string{ep.ID, other.ID, hm.ID} {
					if strings.Contains(string(set), id) || strings.Contains(string(set), strings.TrimPrefix(id, "ep_")) {
						t.Fatalf("%s: the public set names endpoint %s: %s", when, id, set)
					}
				}
				var jwks webhook.JWKSet
				if err := json.Unmarshal(set, &jwks); err != nil {
					t.Fatal(err)
				}
				seen := map[string]bool{}
				for _, k := range jwks.Keys {
					if !kidPattern.MatchString(k.Kid) || seen[k.Kid] {
						t.Fatalf("%s: kid %q is not <key set>.<thumbprint> or is listed twice: %s", when, k.Kid, set)
					}
					seen[k.Kid] = true
				}
				if kid := ep.KeySet + "." + thumbprints(t, publicKey)[0]; !seen[kid] {
					t.Fatalf("%s: the set lacks %s's key %s as %s: %s", when, ep.ID, publicKey, kid, set)
				}
				var shown keyedEndpoint
				n.must(200, "GET", "/v1/endpoints/"+ep.ID, nil, &shown)
				if shown.KeySet != ep.KeySet || shown.PublicKey != publicKey {
					t.Fatalf("%s: the endpoint shows key set %q and key %s, want %s and %s", when, shown.KeySet, shown.PublicKey, ep.KeySet, publicKey)
				}
				return set
			}
			deliver := func(typ string) received {
				t.Helper()
				before := rc.count()
				n.publish(typ, map[string]any{})
				waitFor(t, 10*time.Second, "the delivery of "+typ, func() bool { return rc.count() > before })
				return rc.all()[before]
			}

			v := receive(check("at first", ep.PublicKey))
			if d := deliver("mine.first"); v.Verify(d.Header, d.Body) != nil {
				t.Fatalf("the pinned receiver refuses the first delivery: %v", v.Verify(d.Header, d.Body))
			}

			// A rotation without overlap: the delivery is signed by the new
			// key alone, which the set fetched before does not hold; the
			// receiver fetches the set again and, with the same pin,
			// verifies it.
			var rot endpointSecret
			n.must(200, "POST", "/v1/endpoints/"+ep.ID+"/secret/rotate", map[string]any{"overlap_seconds": 0}, &rot)
			if rot.KeySet != ep.KeySet || rot.Secret == ep.PublicKey {
				t.Fatalf("the rotation answered %+v, want a new key under key set %s", rot, ep.KeySet)
			}
			d := deliver("mine.rotated")
			if err := v.Verify(d.Header, d.Body); err == nil {
				t.Fatal("the set fetched before the rotation verifies the new key's signature: the rotation changed nothing")
			}
			v = receive(check("after the rotation", rot.Secret))
			if err := v.Verify(d.Header, d.Body); err != nil {
				t.Fatalf("the pinned receiver, with the set fetched again, refuses the new key's delivery: %v", err)
			}

			// Re-sealing the secrets at rest under a new key, and a restart,
			// keep the key set. Nodes sharing PostgreSQL take their key from
			// HOOKLINE_SECRET_KEY: a new key goes before the old one, the node
			// restarts with both (and re-seals under the new one as it
			// starts), rotate-key runs, and the old key is dropped, after
			// which the node starts only if every secret was re-sealed.
			newKey := strings.Repeat("a1", 32)
			if db == "postgres" {
				n.terminate()
				n.env = append(n.env, "HOOKLINE_SECRET_KEY="+newKey+","+testSecretKey)
				n.restart()
			}
			var kr struct {
				Resealed int `json:"resealed"`
			}
			n.must(200, "POST", "/v1/secrets/rotate-key", nil, &kr)
			if db == "sqlite" && kr.Resealed < 3 {
				t.Fatalf("rotate-key re-sealed %d secrets, want the 3 endpoints'", kr.Resealed)
			}
			check("after secrets rotate-key", rot.Secret)
			n.terminate()
			if db == "postgres" {
				n.env = append(n.env, "HOOKLINE_SECRET_KEY="+newKey)
			}
			n.restart()
			v = receive(check("after a restart", rot.Secret))
			if d := deliver("mine.restarted"); v.Verify(d.Header, d.Body) != nil {
				t.Fatalf("after a restart the pinned receiver refuses a delivery: %v", v.Verify(d.Header, d.Body))
			}
		})
	}
}
