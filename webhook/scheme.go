package webhook

import (
	"errors"
	"net/http"
	"strconv"
	"time"
)

// The signature schemes SignHeaders knows.
const (
	// SchemeStandard is Standard Webhooks: webhook-id, webhook-timestamp
	// and webhook-signature ("v1,<base64>" or, for an ed25519 secret key,
	// "v1a,<base64>", one per secret).
	SchemeStandard = "standard"
	// SchemeStripe is Stripe's: Stripe-Signature "t=<unix>,v1=<hex>".
	SchemeStripe = "stripe"
)

// The Standard Webhooks headers in canonical form, as http.Header.Set
// would store them, so that signing does not canonicalise them each time.
const (
	canonicalID        = "Webhook-Id"
	canonicalTimestamp = "Webhook-Timestamp"
	canonicalSignature = "Webhook-Signature"
)

// SignHeaders sets on h the signature headers of scheme for a message
// msgID carrying body, signed at ts with each of secrets (several during a
// rotation, newest first): the one place that chooses between the schemes,
// for deliveries, listen devices and `hookline send` alike. An empty scheme
// is SchemeStandard. signer returns the Signer of a standard secret:
// NewSigner, or a cache in front of it for a sender that signs often; the
// Stripe scheme keys its HMAC with the secret as written and does not call
// it. It returns signer's error for a secret that does not decode.
//
// Under SchemeStandard an HMAC secret ("whsec_…") signs v1 and an ed25519
// secret key ("whsk_…") v1a, so that during a switch from one to the other
// both signatures go out. Stripe's scheme has no asymmetric signatures: it
// leaves ed25519 keys out, and fails when no secret is left.
func SignHeaders(h http.Header, scheme, msgID string, ts time.Time, body []byte, secrets []string, signer func(secret string) (*Signer, error)) error {
	if scheme == SchemeStripe {
		hmacs := make([]string, 0, len(secrets))
		for _, s := range secrets {
			if !IsSecretKey(s) {
				hmacs = append(hmacs, s)
			}
		}
		if len(hmacs) == 0 {
			return errors.New("the stripe scheme signs with HMAC secrets (whsec_…), not ed25519 keys")
		}
		h[StripeHeader] = []string{StripeSignature(ts, body, hmacs...)}
		return nil
	}
	var sig string
	for i, secret := range secrets {
		s, err := signer(secret)
		if err != nil {
			return err
		}
		if i == 0 {
			sig = s.Sign(msgID, ts, body)
		} else {
			sig += " " + s.Sign(msgID, ts, body)
		}
	}
	h[canonicalID] = []string{msgID}
	h[canonicalTimestamp] = []string{strconv.FormatInt(ts.Unix(), 10)}
	h[canonicalSignature] = []string{sig}
	return nil
}
