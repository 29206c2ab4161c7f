package app_test

import (
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/webhook"
)

// TestSchemeSigningParam: Stripe's scheme cannot carry ed25519, and the
// refusal names the field the request set, so that the CLI names the flag
// its user passed (--scheme or --signing).
func TestSchemeSigningParam(t *testing.T) {
	t.Parallel()
	a, _, _ := newApp(t)
	ctx := t.Context()
	str := func(s string) *string { return &s }
	url := str("http://127.0.0.1:9/hook")
	create := func(scheme, signing string) *hookline.Endpoint {
		e, _, err := a.CreateEndpoint(ctx, app.EndpointParams{URL: url, SignatureScheme: &scheme, Signing: &signing}, app.ByAPI)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	ed := create(hookline.SchemeStandard, hookline.SigningEd25519)
	stripe := create(hookline.SchemeStripe, hookline.SigningHMAC)

	for _, tc := range []struct {
		name      string
		update    string // endpoint id; "" creates
		p         app.EndpointParams
		wantParam string
	}{
		{name: "update the scheme of an ed25519 endpoint", update: ed.ID, p: app.EndpointParams{SignatureScheme: str("stripe")}, wantParam: "signature_scheme"},
		{name: "update the signing of a stripe endpoint", update: stripe.ID, p: app.EndpointParams{Signing: str("ed25519")}, wantParam: "signing"},
		{name: "update both", update: ed.ID, p: app.EndpointParams{SignatureScheme: str("stripe"), Signing: str("ed25519")}, wantParam: "signing"},
		{name: "create with both", p: app.EndpointParams{URL: url, SignatureScheme: str("stripe"), Signing: str("ed25519")}, wantParam: "signing"},
	} {
		var err error
		if tc.update != "" {
			_, err = a.UpdateEndpoint(ctx, tc.update, tc.p, app.ByAPI)
		} else {
			_, _, err = a.CreateEndpoint(ctx, tc.p, app.ByAPI)
		}
		if hookline.ErrorCode(err) != hookline.EINVALID || hookline.ErrorParam(err) != tc.wantParam ||
			!strings.Contains(hookline.ErrorMessage(err), "Stripe's scheme has no asymmetric signatures") {
			t.Errorf("%s: %v (param %q), want invalid param %q", tc.name, err, hookline.ErrorParam(err), tc.wantParam)
		}
	}
	// Nothing was changed by the refusals.
	for _, e := range []*hookline.Endpoint{ed, stripe} {
		got, err := a.Endpoint(ctx, e.ID)
		if err != nil || got.SignatureScheme != e.SignatureScheme || got.Secret != e.Secret {
			t.Errorf("endpoint %s changed by a refused update: %+v, %v", e.ID, got, err)
		}
	}
	if err := app.CheckSchemeSigning(hookline.SchemeStandard, hookline.SigningEd25519, "signing"); err != nil {
		t.Errorf("standard and ed25519: %v", err)
	}
}

// TestCreateEndpointShownSecret: create returns the secret to show, which
// is the HMAC secret the receiver shares, and for an ed25519 endpoint
// nothing (its public key is shown instead): never a secret key.
func TestCreateEndpointShownSecret(t *testing.T) {
	t.Parallel()
	a, _, _ := newApp(t)
	url := "http://127.0.0.1:9/hook"
	for _, signing := range []string{hookline.SigningHMAC, hookline.SigningEd25519} {
		e, shown, err := a.CreateEndpoint(t.Context(), app.EndpointParams{URL: &url, Signing: &signing}, app.ByAPI)
		if err != nil {
			t.Fatal(err)
		}
		switch signing {
		case hookline.SigningHMAC:
			if shown != e.Secret || !strings.HasPrefix(shown, webhook.SecretPrefix) {
				t.Errorf("hmac: shown %q, want the endpoint's whsec_ secret", shown)
			}
		case hookline.SigningEd25519:
			pk := app.PublicKey(e)
			if shown != "" || !strings.HasPrefix(pk, webhook.PublicKeyPrefix) || app.VerificationKey(e.Secret) != pk {
				t.Errorf("ed25519: shown %q, public key %q; want nothing shown and a whpk_ key", shown, pk)
			}
		}
	}
	if got := app.VerificationKey("whsk_not base64"); got != "" {
		t.Errorf("VerificationKey of a corrupt secret key = %q, want \"\" (never the secret key itself)", got)
	}
}
