package sqlcore

import (
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/seal"
)

// A previous secret that does not open is missed only while its overlap
// lasts: once it has ended the secret signs nothing more, and the
// endpoint is whole without it.
func TestUnopenedPreviousSecretAfterItsOverlap(t *testing.T) {
	t.Parallel()
	kr, err := seal.NewKeyring(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	current, err := kr.Seal(hookline.SecretUse{Column: EndpointSecretColumn, Row: "ep_1"}, "whsec_Y3VycmVudA==")
	if err != nil {
		t.Fatal(err)
	}
	// Sealed for another endpoint: it does not open as ep_1's.
	foreign, err := kr.Seal(hookline.SecretUse{Column: EndpointPreviousSecretColumn, Row: "ep_2"}, "whsec_b2xk")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		expires time.Time
		flagged bool
	}{
		{"overlap running", time.Now().Add(time.Hour), true},
		{"no end recorded", time.Time{}, true},
		{"overlap over", time.Now().Add(-time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &hookline.Endpoint{ID: "ep_1", Secret: current, PreviousSecret: foreign, PreviousSecretExpires: tc.expires}
			OpenEndpoint(kr, e)
			if e.PreviousSecret != "" || e.Secret != "whsec_Y3VycmVudA==" {
				t.Fatalf("opened secret %q, previous %q; want the secret and a blank", e.Secret, e.PreviousSecret)
			}
			if flagged := e.SealErr != nil && e.SealErr.PreviousSecret; flagged != tc.flagged {
				t.Fatalf("SealErr %+v; want the previous secret flagged: %t", e.SealErr, tc.flagged)
			}
		})
	}
}
