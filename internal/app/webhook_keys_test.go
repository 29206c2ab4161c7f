package app_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/webhook"
)

// countingStore counts the endpoint listings the JWK set is built from.
type countingStore struct {
	hookline.Store
	lists atomic.Int64
}

func (s *countingStore) ListEndpoints(ctx context.Context, f hookline.EndpointFilter) ([]*hookline.Endpoint, bool, error) {
	s.lists.Add(1)
	return s.Store.ListEndpoints(ctx, f)
}

// TestWebhookKeysBuiltOnce: /.well-known/webhook-keys is public, so what
// it costs must not grow with the requests: many concurrent requests build
// the set once; a change of keys through this node rebuilds it at once,
// one through another node within the TTL. Every enabled ed25519
// endpoint is in it, over several pages of endpoints.
func TestWebhookKeysBuiltOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hookline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cs := &countingStore{Store: st}
	var mu sync.Mutex
	now := time.Unix(1_900_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	a := app.New(app.Config{Store: cs, Dev: true, Now: clock})

	ed, hm := "ed25519", "hmac"
	url := "http://127.0.0.1:9/hook"
	var keyed []*hookline.Endpoint
	for i := range 150 { // two pages
		signing := &hm
		if i%2 == 0 {
			signing = &ed
		}
		e, err := a.CreateEndpoint(ctx, app.EndpointParams{URL: &url, Signing: signing}, app.ByAPI)
		if err != nil {
			t.Fatal(err)
		}
		if *signing == ed {
			keyed = append(keyed, e)
		}
	}

	cs.lists.Store(0)
	var wg sync.WaitGroup
	bodies := make([][]byte, 50)
	for i := range bodies {
		wg.Go(func() {
			b, err := a.WebhookKeys(ctx)
			if err != nil {
				t.Error(err)
			}
			bodies[i] = b
		})
	}
	wg.Wait()
	if n := cs.lists.Load(); n != 2 {
		t.Fatalf("50 requests listed endpoints %d times, want 2 (one build of two pages)", n)
	}
	for _, b := range bodies[1:] {
		if !bytes.Equal(b, bodies[0]) {
			t.Fatal("concurrent requests got different sets")
		}
	}
	for _, e := range keyed {
		v, err := webhook.NewVerifierJWKS(bodies[0], func(kid string) bool { return strings.HasPrefix(kid, e.ID+".") })
		if err != nil {
			t.Fatalf("endpoint %s: %v", e.ID, err)
		}
		sig, _ := webhook.NewSigner(e.Secret)
		h := map[string][]string{"webhook-id": {"m"}, "webhook-timestamp": {"1900000000"}, "webhook-signature": {sig.Sign("m", now, nil)}}
		v.Now = clock
		if err := v.Verify(h, nil); err != nil {
			t.Fatalf("endpoint %s's key in the set does not verify its signature: %v", e.ID, err)
		}
	}
	if got := strings.Count(string(bodies[0]), `"kid"`); got != len(keyed) {
		t.Fatalf("the set has %d keys, want %d (the ed25519 endpoints only)", got, len(keyed))
	}

	// A rotation through this node shows at once, with the old key.
	if _, _, err := a.RotateSecret(ctx, keyed[0].ID, app.RotateParams{}, app.ByAPI); err != nil {
		t.Fatal(err)
	}
	b, _ := a.WebhookKeys(ctx)
	if got := strings.Count(string(b), `"kid":"`+keyed[0].ID+"."); got != 2 || cs.lists.Load() != 4 {
		t.Fatalf("after a rotation: %d keys of the endpoint, %d listings; want 2 keys, 4 listings", got, cs.lists.Load())
	}
	// A change made elsewhere (straight in the store) shows after the TTL.
	e, _ := st.Endpoint(ctx, keyed[1].ID)
	e.Status = hookline.EndpointDisabled
	if err := st.UpdateEndpoint(ctx, e); err != nil {
		t.Fatal(err)
	}
	if b, _ := a.WebhookKeys(ctx); !strings.Contains(string(b), keyed[1].ID) {
		t.Fatal("the cached set changed before its TTL")
	}
	mu.Lock()
	now = now.Add(11 * time.Second)
	mu.Unlock()
	if b, _ := a.WebhookKeys(ctx); strings.Contains(string(b), keyed[1].ID) {
		t.Fatal("a disabled endpoint's key is still published after the TTL")
	}
}
