package storetest

import (
	"bytes"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/seal"
	"github.com/hookline/hookline/webhook"
)

// TestSealer is a seal.Keyring that a test can make write plain values,
// as a store from before sealing did, and make refuse to open them, so
// that reading back proves every value was sealed.
type TestSealer struct {
	*seal.Keyring
	mu            sync.Mutex
	plain, strict bool
}

// NewTestSealer returns a TestSealer with one random key.
func NewTestSealer(t testing.TB) *TestSealer {
	kr, err := seal.NewKeyring(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	return &TestSealer{Keyring: kr}
}

func (ts *TestSealer) set(plain, strict bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.plain, ts.strict = plain, strict
}

// Seal seals, or returns plain while the sealer writes plain values.
func (ts *TestSealer) Seal(plain string) (string, error) {
	ts.mu.Lock()
	p := ts.plain
	ts.mu.Unlock()
	if p {
		return plain, nil
	}
	return ts.Keyring.Seal(plain)
}

// Open opens, refusing values that are not sealed while strict.
func (ts *TestSealer) Open(stored string) (string, error) {
	ts.mu.Lock()
	s := ts.strict
	ts.mu.Unlock()
	if s && stored != "" && !strings.HasPrefix(stored, "hlseal1:") {
		return "", errors.New("a plain value where a sealed one should be")
	}
	return ts.Keyring.Open(stored)
}

// RunSecrets runs the re-sealing subtests; open must give the store the
// sealer it is passed, and atRest must return what the store keeps of its
// endpoints as bytes at rest (SQLite: its database files; PostgreSQL: the
// endpoints table as text), where no secret may be readable.
func RunSecrets(t *testing.T, open func(t *testing.T, s hookline.SecretSealer) hookline.Store, atRest func(t *testing.T, s hookline.Store) []byte) {
	t.Run("Reseal", func(t *testing.T) {
		t.Parallel()
		ts := NewTestSealer(t)
		f := newFixture(t, func(t *testing.T) hookline.Store { return open(t, ts) })
		testReseal(t, f, ts)
	})
	t.Run("SealedHeaders", func(t *testing.T) {
		t.Parallel()
		ts := NewTestSealer(t)
		ts.set(false, true) // every read must find a sealed value
		f := newFixture(t, func(t *testing.T) hookline.Store { return open(t, ts) })
		testSealedHeaders(t, f, ts, func() []byte { return atRest(t, f.s) })
	})
	t.Run("SealedSigningKey", func(t *testing.T) {
		t.Parallel()
		ts := NewTestSealer(t)
		ts.set(false, true) // every read must find a sealed value
		f := newFixture(t, func(t *testing.T) hookline.Store { return open(t, ts) })
		testSealedSigningKey(t, f, ts)
	})
}

// testSealedHeaders: an endpoint's static header values (a receiver's
// credentials) are written sealed: none is readable at rest, after
// creating, updating and re-sealing under a new key; every read that
// sends or shows them gives them back whole; the names stay as they were.
func testSealedHeaders(t *testing.T, f *fixture, ts *TestSealer, atRest func() []byte) {
	basic := "Basic " + hookline.NewID("cred")
	token := "tok_" + hookline.NewID("tok")
	e := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) {
		e.Headers = hookline.Headers{"Authorization": basic, "X-Api-Token": token, "X-Empty": ""}
	})
	readable := func(stage string, values ...string) {
		t.Helper()
		raw := atRest()
		if !bytes.Contains(raw, []byte(e.ID)) {
			t.Fatalf("%s: the bytes at rest (%d) do not hold the endpoint: atRest reads the wrong place", stage, len(raw))
		}
		for _, v := range values {
			if bytes.Contains(raw, []byte(v)) {
				t.Fatalf("%s: header value %q is readable at rest", stage, v)
			}
		}
	}
	check := func(stage string, got hookline.Headers, want hookline.Headers) {
		t.Helper()
		if !maps.Equal(got, want) {
			t.Fatalf("%s: headers %v, want %v", stage, got, want)
		}
	}
	readable("after CreateEndpoint", basic, token)
	check("Endpoint", f.getEndpoint(e.ID).Headers, e.Headers)
	list, _, err := f.s.ListEndpoints(f.ctx, hookline.EndpointFilter{Page: hookline.Page{Limit: 10}})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListEndpoints: %d, %v", len(list), err)
	}
	check("ListEndpoints", list[0].Headers, e.Headers)
	f.publishAt("invoice.paid", base)
	tasks := f.claim("node-a", at(time.Second), time.Minute, 10)
	if len(tasks) != 1 {
		t.Fatalf("claimed %d tasks, want 1", len(tasks))
	}
	check("ClaimTasks", tasks[0].Endpoint.Headers, e.Headers)

	got := f.getEndpoint(e.ID)
	rotated := "Bearer " + hookline.NewID("new")
	got.Headers = hookline.Headers{"Authorization": rotated, "X-Api-Token": token}
	if err := f.s.UpdateEndpoint(f.ctx, got); err != nil {
		t.Fatal(err)
	}
	readable("after UpdateEndpoint", rotated, token)
	check("after UpdateEndpoint", f.getEndpoint(e.ID).Headers, got.Headers)

	if err := ts.Rotate(seal.NewKey()); err != nil {
		t.Fatal(err)
	}
	if n, err := f.s.ResealSecrets(f.ctx); err != nil || n != 3 { // the secret and two header values
		t.Fatalf("re-seal after rotation: %d, %v; want 3", n, err)
	}
	ts.Retire() // only what was sealed anew opens
	readable("after re-sealing", rotated, token)
	check("after re-sealing", f.getEndpoint(e.ID).Headers, got.Headers)
}

// testSealedSigningKey: an ed25519 endpoint's secret key (whsk_), and the
// HMAC secret signing beside it during a switch, are written sealed and
// read back whole by every read that signs or shows them: the endpoint,
// the list, the claimed task, and after the switch is undone. The sealer
// refuses to open a plain value, so a store that wrote one fails here.
func testSealedSigningKey(t *testing.T, f *fixture, ts *TestSealer) {
	secretKey, _ := webhook.NewKeyPair()
	hmacSecret := webhook.NewSecret()
	e := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) {
		e.Secret = secretKey
		e.PreviousSecret, e.PreviousSecretExpires = hmacSecret, at(time.Hour)
	})
	check := func(stage string, got *hookline.Endpoint, secret, previous string) {
		t.Helper()
		if got.Secret != secret || got.PreviousSecret != previous {
			t.Fatalf("%s: secret %.8q…, previous %.8q…; want %.8q…, %.8q…", stage, got.Secret, got.PreviousSecret, secret, previous)
		}
	}
	got := f.getEndpoint(e.ID)
	check("Endpoint", got, secretKey, hmacSecret)
	if got.Signing() != hookline.SigningEd25519 {
		t.Fatalf("Signing() = %q, want %q", got.Signing(), hookline.SigningEd25519)
	}
	list, _, err := f.s.ListEndpoints(f.ctx, hookline.EndpointFilter{Page: hookline.Page{Limit: 10}})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListEndpoints: %d, %v", len(list), err)
	}
	check("ListEndpoints", list[0], secretKey, hmacSecret)
	f.publishAt("invoice.paid", base)
	tasks := f.claim("node-a", at(time.Second), time.Minute, 10)
	if len(tasks) != 1 {
		t.Fatalf("claimed %d tasks, want 1", len(tasks))
	}
	check("ClaimTasks", tasks[0].Endpoint, secretKey, hmacSecret)

	// Back to HMAC: the secret key signs beside the new secret.
	newSecret := webhook.NewSecret()
	got.Secret, got.PreviousSecret, got.PreviousSecretExpires = newSecret, secretKey, at(2*time.Hour)
	if err := f.s.UpdateEndpoint(f.ctx, got); err != nil {
		t.Fatal(err)
	}
	check("after UpdateEndpoint", f.getEndpoint(e.ID), newSecret, secretKey)

	// Sealed under a key the store no longer has, nothing opens: the
	// database alone does not give the secret key away.
	if err := ts.Rotate(seal.NewKey()); err != nil {
		t.Fatal(err)
	}
	ts.Retire()
	if _, err := f.s.Endpoint(f.ctx, e.ID); err == nil {
		t.Fatal("an endpoint sealed under a retired key opened")
	}
}

// testReseal: plain rows from before sealing, and rows sealed under a
// rotated-out key, are re-sealed under the current key; reads give the
// same secrets throughout; a value no key opens fails the whole re-seal.
func testReseal(t *testing.T, f *fixture, ts *TestSealer) {
	ts.set(true, false) // a database written before sealing
	legacy := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) {
		e.PreviousSecret, e.PreviousSecretExpires = "whsec_previous", at(time.Hour)
		e.Headers = hookline.Headers{"Authorization": "Basic bGVnYWN5OnBhc3M=", "X-Token": "legacy-token"}
	})
	src := f.source("legacy")
	ts.set(false, false)
	sealed := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) {
		e.Headers = hookline.Headers{"Authorization": "Bearer sealed"}
	})

	n, err := f.s.ResealSecrets(f.ctx)
	if err != nil || n != 5 { // legacy's two secrets and two header values, the source's
		t.Fatalf("first re-seal: %d, %v; want the 5 plain values", n, err)
	}
	if err := ts.Rotate(seal.NewKey()); err != nil {
		t.Fatal(err)
	}
	n, err = f.s.ResealSecrets(f.ctx)
	if err != nil || n != 7 { // everything (legacy's 4, sealed's secret and header, the source's), now under the old key
		t.Fatalf("re-seal after rotation: %d, %v; want 7", n, err)
	}
	if n, err := f.s.ResealSecrets(f.ctx); err != nil || n != 0 {
		t.Fatalf("re-seal again: %d, %v; want 0", n, err)
	}
	ts.Retire()         // the old key is gone: only values sealed anew open
	ts.set(false, true) // and plain ones no longer pass
	for _, want := range []*hookline.Endpoint{legacy, sealed} {
		got, err := f.s.Endpoint(f.ctx, want.ID)
		if err != nil || got.Secret != want.Secret || got.PreviousSecret != want.PreviousSecret || !maps.Equal(got.Headers, want.Headers) {
			t.Fatalf("endpoint %s after re-sealing: %+v, %v", want.ID, got, err)
		}
	}
	if got, err := f.s.Source(f.ctx, src.ID); err != nil || got.Secret != src.Secret {
		t.Fatalf("source after re-sealing: %+v, %v", got, err)
	}
	if list, _, err := f.s.ListEndpoints(f.ctx, hookline.EndpointFilter{Page: hookline.Page{Limit: 10}}); err != nil || len(list) != 2 {
		t.Fatalf("listing endpoints after re-sealing: %d, %v", len(list), err)
	}

	other := NewTestSealer(t)
	foreign, err := other.Seal("sealed elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	ts.set(true, false) // written as it is: a value sealed under a key this store lacks
	intruder := &hookline.Source{ID: hookline.NewID("src"), Name: "foreign", Type: hookline.SourceGitHub, Secret: foreign,
		Response: hookline.SourceResponse{Status: 200}, Created: base, Updated: base}
	if err := f.s.CreateSource(f.ctx, intruder); err != nil {
		t.Fatal(err)
	}
	ts.set(false, false)
	if err := ts.Rotate(seal.NewKey()); err != nil {
		t.Fatal(err)
	}
	if n, err := f.s.ResealSecrets(f.ctx); err == nil {
		t.Fatalf("re-seal with a value no key opens rewrote %d and succeeded", n)
	}
	ts.Retire() // had the failed re-seal kept part of its work, these would open
	if _, err := f.s.Endpoint(f.ctx, legacy.ID); err == nil {
		t.Fatal("a failed re-seal rewrote endpoints")
	}
}
