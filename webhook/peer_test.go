package webhook_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	stripewebhook "github.com/stripe/stripe-go/v82/webhook"

	"github.com/hookline/hookline/webhook"
)

// Peer tests: independent implementations must agree with this package in
// both directions, with the real clock, since the peers read it.

var peerBodies = []string{
	`{"test": 2432232314}`,
	`{"id":"evt_1","object":"event","type":"order.created","data":{"object":{"amount":4200,"note":"ünïcødé ✓"}}}`,
	`{}`,
	`{"id":"evt_2","object":"event","big":"` + strings.Repeat("x", 64<<10) + `"}`,
}

func TestStandardWebhooksPeer(t *testing.T) {
	t.Parallel()
	secrets := []string{
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", // without the prefix
		webhook.NewSecret(),
	}
	for _, secret := range secrets {
		for i, body := range peerBodies {
			t.Run(secret[:10]+"/"+strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				peer, err := standardwebhooks.NewWebhook(secret)
				if err != nil {
					t.Fatal(err)
				}
				signer, err := webhook.NewSigner(secret)
				if err != nil {
					t.Fatal(err)
				}
				verifier, err := webhook.NewVerifier(secret)
				if err != nil {
					t.Fatal(err)
				}
				id := "msg_" + strconv.Itoa(i)
				now := time.Now()

				// Ours signs, the peer verifies.
				h := http.Header{}
				h.Set(webhook.HeaderID, id)
				h.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
				h.Set(webhook.HeaderSignature, signer.Sign(id, now, []byte(body)))
				if err := peer.Verify([]byte(body), h); err != nil {
					t.Errorf("peer rejected our signature: %v", err)
				}
				if err := peer.Verify([]byte(body+" "), h); err == nil {
					t.Error("peer accepted our signature over a changed body; the test proves nothing")
				}

				// The peer signs, ours verifies.
				sig, err := peer.Sign(id, now, []byte(body))
				if err != nil {
					t.Fatal(err)
				}
				h.Set(webhook.HeaderSignature, sig)
				if err := verifier.Verify(h, []byte(body)); err != nil {
					t.Errorf("we rejected the peer's signature %q: %v", sig, err)
				}
				if err := verifier.Verify(h, []byte(body+" ")); !errors.Is(err, webhook.ErrNoMatchingSignature) {
					t.Errorf("Verify(peer signature, changed body) = %v, want ErrNoMatchingSignature", err)
				}
			})
		}
	}
}

// During a rotation the sender signs with both secrets; a peer that knows
// only one of them must still accept the message.
func TestStandardWebhooksPeerRotation(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret := webhook.NewSecret(), webhook.NewSecret()
	body := []byte(peerBodies[1])
	now := time.Now()
	var sigs []string
	for _, secret := range []string{oldSecret, newSecret} {
		s, err := webhook.NewSigner(secret)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, s.Sign("msg_rot", now, body))
	}
	h := http.Header{}
	h.Set(webhook.HeaderID, "msg_rot")
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(webhook.HeaderSignature, strings.Join(sigs, " "))
	for _, secret := range []string{oldSecret, newSecret} {
		peer, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := peer.Verify(body, h); err != nil {
			t.Errorf("peer with one of two secrets rejected the message: %v", err)
		}
	}
}

func TestStripePeer(t *testing.T) {
	t.Parallel()
	const secret, other = "whsec_test_3f9a0c2b7d", "whsec_test_other"
	opts := stripewebhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true}
	for i, body := range peerBodies[1:] { // stripe-go parses the body as an event, so skip the non-event vector
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			now := time.Now()

			// Ours signs, stripe-go verifies, with either secret of a rotation.
			header := webhook.StripeSignature(now, []byte(body), other, secret)
			for _, s := range []string{secret, other} {
				if _, err := stripewebhook.ConstructEventWithOptions([]byte(body), header, s, opts); err != nil {
					t.Errorf("stripe-go rejected our header with secret %q: %v", s, err)
				}
			}
			if _, err := stripewebhook.ConstructEventWithOptions([]byte(body), header, "whsec_wrong", opts); err == nil {
				t.Error("stripe-go accepted our header with a wrong secret; the test proves nothing")
			}

			// stripe-go signs, ours verifies.
			signed := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{
				Payload: []byte(body), Secret: secret, Timestamp: now,
			})
			if err := webhook.VerifyStripe(signed.Header, signed.Payload, 0, time.Time{}, secret); err != nil {
				t.Errorf("VerifyStripe rejected stripe-go's header %q: %v", signed.Header, err)
			}
			if err := webhook.VerifyStripe(signed.Header, signed.Payload, 0, time.Time{}, other, secret); err != nil {
				t.Errorf("VerifyStripe with two secrets rejected stripe-go's header: %v", err)
			}
			if err := webhook.VerifyStripe(signed.Header, signed.Payload, 0, time.Time{}, other); !errors.Is(err, webhook.ErrNoMatchingSignature) {
				t.Errorf("VerifyStripe(wrong secret) = %v, want ErrNoMatchingSignature", err)
			}
			old := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{
				Payload: []byte(body), Secret: secret, Timestamp: now.Add(-time.Hour),
			})
			if err := webhook.VerifyStripe(old.Header, old.Payload, 0, time.Time{}, secret); !errors.Is(err, webhook.ErrTimestampTooOld) {
				t.Errorf("VerifyStripe(hour-old header) = %v, want ErrTimestampTooOld", err)
			}
		})
	}
}
