package e2e

import (
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/webhook"
)

// keyedEndpoint is an endpoint as the API shows an ed25519 one.
type keyedEndpoint struct {
	ID              string `json:"id"`
	Signing         string `json:"signing"`
	PublicKey       string `json:"public_key"`
	KeySet          string `json:"key_set"`
	Secret          string `json:"secret"`
	SignatureScheme string `json:"signature_scheme"`
}

// endpointSecret is the answer of the secret routes.
type endpointSecret struct {
	Secret                string `json:"secret"`
	PreviousSecret        string `json:"previous_secret"`
	PreviousSecretExpires int64  `json:"previous_secret_expires"`
	KeySet                string `json:"key_set"`
}

// webhookKeys fetches /.well-known/webhook-keys as a stranger would: no
// API key.
func webhookKeys(t *testing.T, n *node) []byte {
	t.Helper()
	resp, err := http.Get(n.URL + "/.well-known/webhook-keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /.well-known/webhook-keys without a key: %d, %v: %s", resp.StatusCode, err, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/jwk-set+json" {
		t.Errorf("Content-Type %q, want application/jwk-set+json", ct)
	}
	// A new key signs at once: no cache may serve the set without asking.
	if cc, etag := resp.Header.Get("Cache-Control"), resp.Header.Get("ETag"); cc != "no-cache" || etag == "" {
		t.Errorf("Cache-Control %q, ETag %q; want no-cache and an ETag to revalidate with", cc, etag)
	}
	return body
}

// webhookKeysSince asks for /.well-known/webhook-keys with If-None-Match
// etag, as a cache revalidating it does, and returns the status and ETag.
func webhookKeysSince(t *testing.T, n *node, etag string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", n.URL+"/.well-known/webhook-keys", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("If-None-Match", etag)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("ETag")
}

// thumbprints returns the kids the set gives publicKeys: their RFC 7638
// thumbprints.
func thumbprints(t *testing.T, publicKeys ...string) []string {
	t.Helper()
	var kids []string
	for _, pk := range publicKeys {
		tp, err := webhook.Thumbprint(pk)
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, tp)
	}
	return kids
}

// kidPattern is the form of every kid: <key set>.<thumbprint>.
var kidPattern = regexp.MustCompile(`^(ks_[a-z2-7]{26})\.([A-Za-z0-9_-]{43})$`)

// kidsOf returns the key ids of a JWK set that name one of publicKeys,
// checking that each is <key set>.<the thumbprint of the key it comes
// with>.
func kidsOf(t *testing.T, set []byte, publicKeys ...string) []string {
	t.Helper()
	var jwks webhook.JWKSet
	if err := json.Unmarshal(set, &jwks); err != nil {
		t.Fatalf("JWK set %s: %v", set, err)
	}
	wanted := thumbprints(t, publicKeys...)
	var kids []string
	for _, k := range jwks.Keys {
		pk, err := k.PublicKey()
		if err != nil {
			t.Fatalf("JWK %+v: %v", k, err)
		}
		m := kidPattern.FindStringSubmatch(k.Kid)
		if tp := thumbprints(t, pk)[0]; m == nil || m[2] != tp {
			t.Errorf("JWK of %s has kid %q, want ks_….%s (its key set, its thumbprint)", pk, k.Kid, tp)
			continue
		}
		if slices.Contains(wanted, m[2]) {
			kids = append(kids, k.Kid)
		}
	}
	return kids
}

// pinned returns a Verifier of the keys of set that are among publicKeys,
// as a receiver that pins its endpoint's keys builds it.
func pinned(t *testing.T, set []byte, publicKeys ...string) *webhook.Verifier {
	t.Helper()
	tps := thumbprints(t, publicKeys...)
	v, err := webhook.NewVerifierJWKS(set, func(kid string) bool {
		_, tp, _ := strings.Cut(kid, ".")
		return slices.Contains(tps, tp)
	})
	if err != nil {
		t.Fatalf("verifier of %q: %v\n%s", publicKeys, err, set)
	}
	return v
}

func verifierOf(t *testing.T, keys ...string) *webhook.Verifier {
	t.Helper()
	v, err := webhook.NewVerifier(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// signatureVersions lists the versions of a delivery's signature entries.
func signatureVersions(h http.Header) []string {
	var vs []string
	for _, e := range strings.Fields(h.Get(webhook.HeaderSignature)) {
		v, _, _ := strings.Cut(e, ",")
		vs = append(vs, v)
	}
	return vs
}

// TestEd25519Endpoint: an endpoint signed with ed25519 delivers v1a
// signatures that the webhook package verifies with the whpk_ key the API
// shows and with the JWK set fetched without a key from
// /.well-known/webhook-keys; a rotation keeps the old key signing (and
// published) for the overlap; a switch from HMAC carries v1 beside v1a;
// the secret key never leaves the server nor reaches the disk in the clear.
// The set names keys by their thumbprints: it lists no endpoint's id.
func TestEd25519Endpoint(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	dir := t.TempDir()
	n := startNode(t, dir, "--dev")

	var ep keyedEndpoint
	raw := n.must(201, "POST", "/v1/endpoints", map[string]any{"url": rc.URL, "signing": "ed25519"}, &ep)
	if ep.Signing != "ed25519" || !strings.HasPrefix(ep.PublicKey, webhook.PublicKeyPrefix) || ep.Secret != "" || strings.Contains(string(raw), webhook.SecretKeyPrefix) {
		t.Fatalf("created ed25519 endpoint: %s", raw)
	}
	var got keyedEndpoint
	n.must(200, "GET", "/v1/endpoints/"+ep.ID, nil, &got)
	if got.PublicKey != ep.PublicKey || got.Signing != "ed25519" {
		t.Fatalf("GET shows %+v, created %+v", got, ep)
	}
	var sec endpointSecret
	n.must(200, "GET", "/v1/endpoints/"+ep.ID+"/secret", nil, &sec)
	if sec.Secret != ep.PublicKey {
		t.Fatalf("the secret route shows %q, want the public key %q: the secret key stays on the server", sec.Secret, ep.PublicKey)
	}
	// Endpoints not in the set: one signed with HMAC, one disabled.
	hm := n.createEndpoint(map[string]any{"url": rc.URL + "/hmac", "enabled_events": []string{"other.*"}})
	var off keyedEndpoint
	n.must(201, "POST", "/v1/endpoints", map[string]any{"url": rc.URL + "/off", "signing": "ed25519", "status": "disabled"}, &off)

	set := webhookKeys(t, n)
	if want := ep.KeySet + "." + thumbprints(t, ep.PublicKey)[0]; !slices.Equal(kidsOf(t, set, ep.PublicKey), []string{want}) {
		t.Fatalf("kids of %s's key in the set: %q, want [%s]\n%s", ep.ID, kidsOf(t, set, ep.PublicKey), want, set)
	}
	if kids := kidsOf(t, set, off.PublicKey); len(kids) > 0 || strings.Count(string(set), `"kid"`) != 1 {
		t.Fatalf("the set has keys of an HMAC or disabled endpoint: %s", set)
	}
	for _, id := range []string{ep.ID, hm.ID, off.ID} {
		if strings.Contains(string(set), id) {
			t.Fatalf("the public set names endpoint %s: %s", id, set)
		}
	}
	byKey := verifierOf(t, ep.PublicKey)
	bySet := pinned(t, set, ep.PublicKey)
	_, etag := webhookKeysSince(t, n, `"none"`)
	if status, again := webhookKeysSince(t, n, etag); status != http.StatusNotModified || again != etag {
		t.Fatalf("revalidating the unchanged set with its ETag %s: %d, ETag %s; want 304", etag, status, again)
	}

	// deliver publishes one event and returns its delivery to rc.
	deliver := func(typ string) received {
		t.Helper()
		before := rc.count()
		n.publish(typ, map[string]any{"n": before + 1})
		waitFor(t, 10*time.Second, "a delivery", func() bool { return rc.count() > before })
		return rc.all()[before]
	}

	d := deliver("key.first")
	if vs := signatureVersions(d.Header); !slices.Equal(vs, []string{"v1a"}) {
		t.Fatalf("signature entries %q, want one v1a", vs)
	}
	for name, v := range map[string]*webhook.Verifier{"whpk_ key": byKey, "JWK set": bySet} {
		if err := v.Verify(d.Header, d.Body); err != nil {
			t.Errorf("verifying with the %s: %v", name, err)
		}
		if err := v.Verify(d.Header, append(d.Body, ' ')); !errors.Is(err, webhook.ErrNoMatchingSignature) {
			t.Errorf("a changed body verified with the %s: %v", name, err)
		}
	}
	if err := verifierOf(t, hm.Secret).Verify(d.Header, d.Body); !errors.Is(err, webhook.ErrNoMatchingSignature) {
		t.Errorf("an HMAC secret verified a v1a delivery: %v", err)
	}

	// Rotation: the new key signs, the old one beside it for the overlap,
	// and both are published.
	var rot endpointSecret
	n.must(200, "POST", "/v1/endpoints/"+ep.ID+"/secret/rotate", map[string]any{"overlap_seconds": 3600}, &rot)
	if !strings.HasPrefix(rot.Secret, webhook.PublicKeyPrefix) || rot.Secret == ep.PublicKey || rot.PreviousSecret != ep.PublicKey || rot.KeySet != ep.KeySet {
		t.Fatalf("rotation answered %+v, want a new public key, the old one as previous and key set %s", rot, ep.KeySet)
	}
	set = webhookKeys(t, n)
	if kids := kidsOf(t, set, ep.PublicKey, rot.Secret); len(kids) != 2 {
		t.Fatalf("after rotation the set has %q for %s, want the new and the old key", kids, ep.ID)
	}
	// A cache revalidating the old set gets the new one at once.
	if status, _ := webhookKeysSince(t, n, etag); status != http.StatusOK {
		t.Fatalf("revalidating the set after a rotation: %d, want 200 with the new set", status)
	}
	d = deliver("key.rotated")
	if vs := signatureVersions(d.Header); !slices.Equal(vs, []string{"v1a", "v1a"}) {
		t.Fatalf("signature entries during the overlap %q, want two v1a", vs)
	}
	for name, v := range map[string]*webhook.Verifier{
		"old key alone": byKey, "set fetched before": bySet,
		"new key alone": verifierOf(t, rot.Secret), "set fetched after": pinned(t, set, rot.Secret),
	} {
		if err := v.Verify(d.Header, d.Body); err != nil {
			t.Errorf("during the overlap, verifying with the %s: %v", name, err)
		}
	}

	// A rotation without overlap: the old key stops signing and leaves the set.
	var rot2 endpointSecret
	n.must(200, "POST", "/v1/endpoints/"+ep.ID+"/secret/rotate", map[string]any{"overlap_seconds": 0}, &rot2)
	set = webhookKeys(t, n)
	if kids := kidsOf(t, set, ep.PublicKey, rot.Secret, rot2.Secret); !slices.Equal(kids, []string{ep.KeySet + "." + thumbprints(t, rot2.Secret)[0]}) {
		t.Fatalf("after a rotation without overlap the set has %q for %s, want the new key's alone", kids, ep.ID)
	}
	d = deliver("key.replaced")
	if err := verifierOf(t, rot2.Secret).Verify(d.Header, d.Body); err != nil {
		t.Errorf("verifying with the new key: %v", err)
	}
	if err := pinned(t, set, rot2.Secret).Verify(d.Header, d.Body); err != nil {
		t.Errorf("verifying with the set: %v", err)
	}
	for name, v := range map[string]*webhook.Verifier{"first key": byKey, "second key": verifierOf(t, rot.Secret), "first set": bySet} {
		if err := v.Verify(d.Header, d.Body); !errors.Is(err, webhook.ErrNoMatchingSignature) {
			t.Errorf("after the overlap, the %s still verifies: %v", name, err)
		}
	}

	// A switch from HMAC: v1 beside v1a while the old secret's overlap
	// lasts, so a receiver holding the whsec_ secret keeps verifying.
	var sw keyedEndpoint
	n.must(200, "PATCH", "/v1/endpoints/"+hm.ID, map[string]any{"signing": "ed25519", "enabled_events": []string{"switch.*"}}, &sw)
	if sw.Signing != "ed25519" || !strings.HasPrefix(sw.PublicKey, webhook.PublicKeyPrefix) {
		t.Fatalf("switched endpoint: %+v", sw)
	}
	n.must(200, "GET", "/v1/endpoints/"+hm.ID+"/secret", nil, &sec)
	if sec.Secret != sw.PublicKey || sec.PreviousSecret != hm.Secret || sec.PreviousSecretExpires <= time.Now().Unix() {
		t.Fatalf("secret route after the switch: %+v, want the public key and the old whsec_ secret", sec)
	}
	before := rc.count()
	n.publish("switch.done", map[string]any{})
	waitFor(t, 10*time.Second, "the deliveries", func() bool { return rc.count() >= before+2 })
	var sd *received
	for _, r := range rc.all()[before:] {
		if slices.Contains(signatureVersions(r.Header), "v1") {
			sd = &r
		}
	}
	if sd == nil || !slices.Equal(signatureVersions(sd.Header), []string{"v1a", "v1"}) {
		t.Fatalf("no delivery of the switching endpoint with v1a and v1: %+v", rc.all()[before:])
	}
	for name, v := range map[string]*webhook.Verifier{
		"old whsec_ secret": verifierOf(t, hm.Secret), "new public key": verifierOf(t, sw.PublicKey),
		"JWK set": pinned(t, webhookKeys(t, n), sw.PublicKey),
	} {
		if err := v.Verify(sd.Header, sd.Body); err != nil {
			t.Errorf("during the switch, verifying with the %s: %v", name, err)
		}
	}

	// Stripe's scheme has no asymmetric signatures: refused, naming the
	// field the request set.
	for _, c := range []struct {
		method, path string
		body         map[string]any
		param        string
	}{
		{"POST", "/v1/endpoints", map[string]any{"url": rc.URL, "signature_scheme": "stripe", "signing": "ed25519"}, "signing"},
		{"PATCH", "/v1/endpoints/" + ep.ID, map[string]any{"signature_scheme": "stripe"}, "signature_scheme"},
	} {
		status, raw := n.call(c.method, c.path, c.body, nil)
		if status != 400 || !strings.Contains(string(raw), `"param":"`+c.param+`"`) {
			t.Errorf("%s %s %v: %d %s, want 400 naming %s", c.method, c.path, c.body, status, raw, c.param)
		}
	}
	if status, raw := n.call("POST", "/v1/endpoints", map[string]any{"url": rc.URL, "signing": "rsa"}, nil); status != 400 || !strings.Contains(string(raw), `"param":"signing"`) {
		t.Errorf("signing rsa: %d %s, want 400 naming signing", status, raw)
	}

	t.Run("dashboard", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.PostForm(n.URL+"/login", url.Values{"key": {testAPIKey}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		resp, err = c.Get(n.URL + "/endpoints/" + ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// html/template writes a key's "+" as "&#43;".
		page := html.UnescapeString(string(raw))
		if resp.StatusCode != 200 || !strings.Contains(page, "<strong>ed25519</strong>") || !strings.Contains(page, rot2.Secret) ||
			!strings.Contains(page, `<code id="key-set" class="break">`+ep.KeySet+`.</code>`) {
			t.Fatalf("endpoint page: %d, want the signing mode, public key %s and key set %s on it:\n%.2000s", resp.StatusCode, rot2.Secret, ep.KeySet, page)
		}
		if strings.Contains(page, webhook.SecretKeyPrefix) {
			t.Fatal("the endpoint page shows a secret key")
		}
	})

	// Sealed at rest: no secret key in the data directory's files.
	n.terminate()
	if files := filesHolding(t, dir, "secret_key", []byte(webhook.SecretKeyPrefix)); len(files) > 0 {
		t.Fatalf("%q is readable in %v", webhook.SecretKeyPrefix, files)
	}
}
