package app_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
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
	st := openStore(t)
	cs := &countingStore{Store: st}
	var mu sync.Mutex
	now := time.Unix(1_900_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	a := app.New(app.Config{Store: cs, Dev: true, Now: clock})

	ed, hm := "ed25519", "hmac"
	url := "http://127.0.0.1:9/hook"
	var keyed, all []*hookline.Endpoint
	for i := range 150 { // two pages
		signing := &hm
		if i%2 == 0 {
			signing = &ed
		}
		e, _, err := a.CreateEndpoint(ctx, app.EndpointParams{URL: &url, Signing: signing}, app.ByAPI)
		if err != nil {
			t.Fatal(err)
		}
		if *signing == ed {
			keyed = append(keyed, e)
		}
		all = append(all, e)
	}

	cs.lists.Store(0)
	var wg sync.WaitGroup
	bodies := make([][]byte, 50)
	for i := range bodies {
		wg.Go(func() {
			set, err := a.WebhookKeys(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			bodies[i] = set.Body
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
	// The set is public: it names keys, never the endpoints they sign
	// for, of this tenant or any other.
	for _, e := range all {
		if bytes.Contains(bodies[0], []byte(e.ID)) {
			t.Fatalf("the public set names endpoint %s: %s", e.ID, bodies[0])
		}
	}
	for _, e := range keyed {
		v, err := webhook.NewVerifierJWKS(bodies[0], webhook.PinKeySet(keySet(t, a, e)))
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
	b := keysBody(t, a)
	rotated, err := st.Endpoint(ctx, keyed[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, secret := range rotated.Secrets(clock()) {
		got += strings.Count(string(b), `"kid":"`+kidOf(t, a, rotated, app.VerificationKey(secret))+`"`)
	}
	if got != 2 || cs.lists.Load() != 4 {
		t.Fatalf("after a rotation: %d keys of the endpoint, %d listings; want 2 keys (the new and the old), 4 listings", got, cs.lists.Load())
	}
	// A change made elsewhere (straight in the store) shows after the TTL.
	e, _ := st.Endpoint(ctx, keyed[1].ID)
	e.Status = hookline.EndpointDisabled
	if err := st.UpdateEndpoint(ctx, e); err != nil {
		t.Fatal(err)
	}
	disabled := `"kid":"` + kidOf(t, a, keyed[1], app.PublicKey(keyed[1])) + `"`
	if b := keysBody(t, a); !strings.Contains(string(b), disabled) {
		t.Fatal("the cached set changed before its TTL")
	}
	mu.Lock()
	now = now.Add(11 * time.Second)
	mu.Unlock()
	if b := keysBody(t, a); strings.Contains(string(b), disabled) {
		t.Fatal("a disabled endpoint's key is still published after the TTL")
	}
}

// keySet is endpoint e's key set id, which must be one.
func keySet(t *testing.T, a *app.App, e *hookline.Endpoint) string {
	t.Helper()
	ks, err := a.KeySet(t.Context(), e)
	if err != nil {
		t.Fatal(err)
	}
	if !keySetRE.MatchString(ks) {
		t.Fatalf("endpoint %s has key set %q, want ks_ and 26 base32 letters", e.ID, ks)
	}
	return ks
}

var keySetRE = regexp.MustCompile(`^ks_[a-z2-7]{26}$`)

// kidOf is the kid of endpoint e's public key publicKey in the set:
// <key set>.<thumbprint>.
func kidOf(t *testing.T, a *app.App, e *hookline.Endpoint, publicKey string) string {
	t.Helper()
	tp, err := webhook.Thumbprint(publicKey)
	if err != nil {
		t.Fatalf("thumbprint of %q: %v", publicKey, err)
	}
	return keySet(t, a, e) + "." + tp
}

func keysBody(t *testing.T, a *app.App) []byte {
	t.Helper()
	set, err := a.WebhookKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return set.Body
}

// stallingStore, once armed, holds every endpoint listing after reading
// it, until release is closed or the listing's context ends, as a slow
// database would; left tells what the listing's context said then.
type stallingStore struct {
	hookline.Store
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
	left    chan error
}

func (s *stallingStore) ListEndpoints(ctx context.Context, f hookline.EndpointFilter) ([]*hookline.Endpoint, bool, error) {
	eps, more, err := s.Store.ListEndpoints(ctx, f)
	if !s.armed.Load() {
		return eps, more, err
	}
	s.entered <- struct{}{}
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	s.left <- ctx.Err()
	return eps, more, errors.Join(err, ctx.Err())
}

// TestWebhookKeysBuildBlocksNoOne: a build of the JWK set, which any
// stranger can start, holds up no one. Changing an endpoint's keys does
// not wait for it; a request waiting for it leaves when its own context
// ends; the request that started it can leave without cancelling it for
// the others; and a build that read the endpoints before a change is not
// served after it.
func TestWebhookKeysBuildBlocksNoOne(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := openStore(t)
	ss := &stallingStore{Store: st, entered: make(chan struct{}, 4), release: make(chan struct{}), left: make(chan error, 4)}
	a := app.New(app.Config{Store: ss, Dev: true})
	ed, url := "ed25519", "http://127.0.0.1:9/hook"
	e1, _, err := a.CreateEndpoint(ctx, app.EndpointParams{URL: &url, Signing: &ed}, app.ByAPI)
	if err != nil {
		t.Fatal(err)
	}
	within := func(what string, f func()) {
		t.Helper()
		done := make(chan struct{})
		go func() { defer close(done); f() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s waited for the JWK set's build", what)
		}
	}

	// A stranger's request starts a build, which stalls in the store.
	ss.armed.Store(true)
	sctx, cancelStarter := context.WithCancel(ctx)
	starter := make(chan error, 1)
	go func() { _, err := a.WebhookKeys(sctx); starter <- err }()
	<-ss.entered

	within("a request with a deadline", func() {
		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := a.WebhookKeys(wctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a waiter past its deadline got %v, want context.DeadlineExceeded", err)
		}
	})
	cancelStarter()
	within("the cancelled starter", func() {
		if err := <-starter; !errors.Is(err, context.Canceled) {
			t.Errorf("the cancelled starter got %v, want context.Canceled", err)
		}
	})
	var e2 *hookline.Endpoint
	within("a rotation and a creation", func() {
		if _, _, err := a.RotateSecret(ctx, e1.ID, app.RotateParams{OverlapSeconds: new(int64)}, app.ByAPI); err != nil {
			t.Error(err)
		}
		if e2, _, err = a.CreateEndpoint(ctx, app.EndpointParams{URL: &url, Signing: &ed}, app.ByAPI); err != nil {
			t.Error(err)
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	// The stalled build goes on, its starter gone: its context is its own.
	ss.armed.Store(false)
	close(ss.release)
	if err := <-ss.left; err != nil {
		t.Fatalf("the build was cut short when its starter left: %v", err)
	}
	// It read the endpoints before the changes: what is served now has
	// them, the rotated key alone and the new endpoint's.
	body := string(keysBody(t, a))
	for _, e := range []*hookline.Endpoint{e1, e2} {
		cur, err := a.Endpoint(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		kid := kidOf(t, a, cur, app.PublicKey(cur))
		if !strings.Contains(body, `"kid":"`+kid+`"`) {
			t.Errorf("after the changes, the set lacks %s's current key %s: %s", e.ID, kid, body)
		}
	}
	if old := kidOf(t, a, e1, app.PublicKey(e1)); strings.Contains(body, old) {
		t.Errorf("the set still has %s's key from before its rotation without overlap (%s): %s", e1.ID, old, body)
	}
	if got := strings.Count(body, `"kid"`); got != 2 {
		t.Errorf("the set has %d keys, want 2 (one of each endpoint): %s", got, body)
	}
}
