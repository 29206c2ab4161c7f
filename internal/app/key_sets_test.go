package app_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/webhook"
)

// kidsIn returns the kids of a JWK set, in order.
func kidsIn(t *testing.T, body []byte) []string {
	t.Helper()
	var set webhook.JWKSet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("JWK set %s: %v", body, err)
	}
	kids := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		kids[i] = k.Kid
	}
	return kids
}

// TestKeySetIDs: an ed25519 endpoint's keys are listed as
// "<key set>.<thumbprint>", the key set the same across the endpoint's
// rotations, for another App over the same database (another node) and
// after the database is opened again (a restart); different endpoints
// have different key sets, none naming its endpoint; an HMAC endpoint has
// none.
func TestKeySetIDs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookline.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(app.Config{Store: st, Dev: true})
	ed, hm, url := "ed25519", "hmac", "http://127.0.0.1:9/hook"
	e1, _, err := a.CreateEndpoint(ctx, app.EndpointParams{URL: &url, Signing: &ed}, app.ByAPI)
	if err != nil {
		t.Fatal(err)
	}
	e2, _, err := a.CreateEndpoint(ctx, app.EndpointParams{URL: &url, Signing: &ed}, app.ByAPI)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := a.CreateEndpoint(ctx, app.EndpointParams{URL: &url, Signing: &hm}, app.ByAPI)
	if err != nil {
		t.Fatal(err)
	}
	ks1, ks2 := keySet(t, a, e1), keySet(t, a, e2)
	if ks1 == ks2 {
		t.Fatalf("two endpoints share the key set %s", ks1)
	}
	for _, ks := range []string{ks1, ks2} {
		for _, id := range []string{e1.ID, e2.ID, strings.TrimPrefix(e1.ID, "ep_"), strings.TrimPrefix(e2.ID, "ep_")} {
			if strings.Contains(strings.ToLower(ks), strings.ToLower(id)) {
				t.Fatalf("key set %s holds endpoint id %s", ks, id)
			}
		}
	}
	if ks, err := a.KeySet(ctx, h); err != nil || ks != "" {
		t.Fatalf("an HMAC endpoint's key set: %q, %v; want none", ks, err)
	}
	if got, want := kidsIn(t, keysBody(t, a)), []string{kidOf(t, a, e1, app.PublicKey(e1)), kidOf(t, a, e2, app.PublicKey(e2))}; !sameKids(got, want) {
		t.Fatalf("the set's kids are %q, want %q", got, want)
	}

	// A rotation keeps the key set: the new key and the old are both
	// under it, and the rotation answers it.
	sec, _, err := a.RotateSecret(ctx, e1.ID, app.RotateParams{}, app.ByAPI)
	if err != nil {
		t.Fatal(err)
	}
	if sec.KeySet != ks1 {
		t.Fatalf("the rotation answered key set %q, want %s", sec.KeySet, ks1)
	}
	if _, shown, err := a.EndpointSecret(ctx, e1.ID); err != nil || shown.KeySet != ks1 {
		t.Fatalf("the secret after the rotation shows key set %q, %v; want %s", shown.KeySet, err, ks1)
	}
	want := []string{kidOf(t, a, e1, sec.Secret), kidOf(t, a, e1, sec.PreviousSecret), kidOf(t, a, e2, app.PublicKey(e2))}
	if got := kidsIn(t, keysBody(t, a)); !sameKids(got, want) {
		t.Fatalf("after the rotation the set's kids are %q, want %q", got, want)
	}

	// Another node over the same database, and the same after a restart.
	other := app.New(app.Config{Store: st, Dev: true})
	if ks := keySet(t, other, e1); ks != ks1 {
		t.Fatalf("another node gives %s key set %s, this one %s", e1.ID, ks, ks1)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	restarted := app.New(app.Config{Store: st, Dev: true})
	if got, want := []string{keySet(t, restarted, e1), keySet(t, restarted, e2)}, []string{ks1, ks2}; !sameKids(got, want) {
		t.Fatalf("after a restart the key sets are %q, want %q", got, want)
	}
}

// TestKeySetNoDuplicateKid: a user's own whsk_ key given to two endpoints
// is listed once under each endpoint's key set (two kids, not the same one
// twice); an endpoint rotated to the key it has, with an overlap, lists it
// once. No kid appears twice in the set.
func TestKeySetNoDuplicateKid(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, _, _ := newApp(t)
	shared, pk := webhook.NewKeyPair()
	ed, url := "ed25519", "http://127.0.0.1:9/hook"
	var eps []*hookline.Endpoint
	for range 2 {
		e, _, err := a.CreateEndpoint(ctx, app.EndpointParams{URL: &url, Signing: &ed, Secret: &shared}, app.ByAPI)
		if err != nil {
			t.Fatal(err)
		}
		eps = append(eps, e)
	}
	if _, _, err := a.RotateSecret(ctx, eps[0].ID, app.RotateParams{Secret: shared}, app.ByAPI); err != nil {
		t.Fatal(err)
	}
	got := kidsIn(t, keysBody(t, a))
	want := []string{kidOf(t, a, eps[0], pk), kidOf(t, a, eps[1], pk)}
	if len(got) != 2 || !sameKids(got, want) {
		t.Fatalf("the set's kids are %q, want each endpoint's once: %q", got, want)
	}
}

// sameKids reports whether got and want hold the same kids, each once.
func sameKids(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	seen := map[string]int{}
	for _, k := range got {
		seen[k]++
	}
	for _, k := range want {
		if seen[k] != 1 {
			return false
		}
		seen[k]--
	}
	return true
}
