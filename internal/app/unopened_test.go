package app_test

import (
	"path/filepath"
	"testing"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/seal"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// An endpoint none of whose sealed values open (the store reopened under
// another key: its secret and its headers) is mended one value at a
// time, as its error says: a change of anything else is made and keeps
// the stored values; rotating the secret mends the secret and leaves the
// headers as they were stored; setting the headers anew mends them.
func TestEndpointMendedOneValueAtATime(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookline.db")
	open := func() *app.App {
		t.Helper()
		kr, err := seal.NewKeyring(seal.NewKey())
		if err != nil {
			t.Fatal(err)
		}
		st, err := sqlite.OpenWith(ctx, path, sqlite.Options{Sealer: kr})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return app.New(app.Config{Store: st, Dev: true})
	}
	str := func(s string) *string { return &s }
	a := open()
	e, _, err := a.CreateEndpoint(ctx, app.EndpointParams{URL: str("http://127.0.0.1:9/hook"),
		Headers: &map[string]string{"Authorization": "Basic c2VjcmV0"}}, app.ByAPI)
	if err != nil {
		t.Fatal(err)
	}
	a = open() // another key: nothing of e opens
	read := func(stage string) *hookline.Endpoint {
		t.Helper()
		got, err := a.Endpoint(ctx, e.ID)
		if err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		return got
	}
	if got := read("reopened"); got.SealErr == nil || !got.SealErr.Secret || !got.SealErr.Headers {
		t.Fatalf("reopened under another key: SealErr %+v, want the secret and the headers", got.SealErr)
	}
	if _, err := a.UpdateEndpoint(ctx, e.ID, app.EndpointParams{Description: str("renamed")}, app.ByAPI); err != nil {
		t.Fatalf("a change of the description: %v", err)
	}
	if got := read("renamed"); got.Description != "renamed" || got.SealErr == nil || !got.SealErr.Secret || !got.SealErr.Headers {
		t.Fatalf("after a change of the description: %q, SealErr %+v; want it renamed, both values still unopened (not written blank)", got.Description, got.SealErr)
	}
	if _, _, err := a.RotateSecret(ctx, e.ID, app.RotateParams{}, app.ByAPI); err != nil {
		t.Fatalf("rotating the secret while the headers do not open: %v", err)
	}
	got := read("rotated")
	if got.SealErr == nil || got.SealErr.Secret || got.SealErr.PreviousSecret || !got.SealErr.Headers || got.Secret == "" {
		t.Fatalf("after rotating: secret %t, SealErr %+v; want a secret, the headers alone unopened", got.Secret != "", got.SealErr)
	}
	if _, err := a.UpdateEndpoint(ctx, e.ID, app.EndpointParams{Headers: &map[string]string{"Authorization": "Basic bmV3"}}, app.ByAPI); err != nil {
		t.Fatalf("setting the headers anew: %v", err)
	}
	if got := read("headers set"); got.SealErr != nil || got.Headers["Authorization"] != "Basic bmV3" {
		t.Fatalf("after setting the headers: %v, SealErr %+v; want them, and nothing unopened", got.Headers, got.SealErr)
	}
}
