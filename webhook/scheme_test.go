package webhook

import (
	"net/http"
	"testing"
	"time"
)

// TestSignHeaders: each scheme's headers are accepted by that scheme's
// verifier, with either of two rotation secrets, and carry no header of
// the other scheme.
func TestSignHeaders(t *testing.T) {
	t.Parallel()
	old, cur := NewSecret(), NewSecret()
	body := []byte(`{"id":"evt_1","type":"invoice.paid"}`)
	now := time.Now()
	for _, tc := range []struct {
		scheme string
		verify func(h http.Header, secret string) error
		absent string
	}{
		{SchemeStandard, func(h http.Header, secret string) error {
			v, err := NewVerifier(secret)
			if err != nil {
				return err
			}
			return v.Verify(h, body)
		}, StripeHeader},
		{"", func(h http.Header, secret string) error { // empty is standard
			v, err := NewVerifier(secret)
			if err != nil {
				return err
			}
			return v.Verify(h, body)
		}, StripeHeader},
		{SchemeStripe, func(h http.Header, secret string) error {
			return VerifyStripe(h.Get(StripeHeader), body, 5*time.Minute, now, secret)
		}, HeaderSignature},
	} {
		h := http.Header{}
		if err := SignHeaders(h, tc.scheme, "evt_1", now, body, []string{cur, old}, NewSigner); err != nil {
			t.Fatalf("%q: %v", tc.scheme, err)
		}
		for _, secret := range []string{cur, old} {
			if err := tc.verify(h, secret); err != nil {
				t.Errorf("%q: not verified with one of its secrets: %v (headers %v)", tc.scheme, err, h)
			}
		}
		if h.Get(tc.absent) != "" {
			t.Errorf("%q: carries %s too", tc.scheme, tc.absent)
		}
		if err := tc.verify(h, NewSecret()); err == nil {
			t.Errorf("%q: verified with a secret it was not signed with", tc.scheme)
		}
	}
	if err := SignHeaders(http.Header{}, SchemeStandard, "evt_1", now, body, []string{"whsec_%%%"}, NewSigner); err == nil {
		t.Error("a secret that does not decode signed")
	}
}
