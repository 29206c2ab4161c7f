// Package webhook signs and verifies webhooks the way Hookline sends them:
// the Standard Webhooks scheme (https://www.standardwebhooks.com), which is
// also what Svix sends. It is the package a receiver imports, and the Hookline
// server signs every delivery with this same code. It also signs and
// verifies Stripe's Stripe-Signature scheme. It uses only the standard
// library.
//
// # Receiving
//
// Wrap the handler with the endpoint's signing secret; the handler runs only
// for verified requests and can read r.Body as usual:
//
//	v, err := webhook.NewVerifier(os.Getenv("HOOKLINE_SECRET")) // "whsec_..."
//	if err != nil {
//		log.Fatal(err)
//	}
//	http.Handle("POST /webhooks", v.Middleware(handler))
//
// Or verify by hand, reading the body first (capped, as every body should be):
//
//	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
//	if err != nil {
//		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
//		return
//	}
//	if err := v.Verify(r.Header, body); err != nil {
//		http.Error(w, err.Error(), http.StatusUnauthorized)
//		return
//	}
//
// Errors wrap one of ErrMissingHeaders, ErrInvalidHeaders,
// ErrTimestampTooOld, ErrTimestampTooNew and ErrNoMatchingSignature, for use
// with errors.Is. To rotate a secret, pass the old and the new one to
// NewVerifier until the sender has switched.
//
// # Asymmetric signatures (v1a)
//
// A sender may sign with an ed25519 key pair instead of a shared secret:
// it keeps the secret key ("whsk_…") and gives out the public key
// ("whpk_…"), which verifies but cannot sign. Such messages carry
// "v1a,<base64>" entries, and during a switch from a shared secret both
// kinds. Pass the public key to NewVerifier as you would a secret:
//
//	v, err := webhook.NewVerifier("whpk_...")
//
// or build the Verifier from the sender's published JWK set, trusting
// only your endpoint's keys. Hookline's kid is "<key set>.<thumbprint>":
// the endpoint's key set ("ks_…", shown beside its public key), the same
// across rotations and unlinkable to the endpoint, then the key's RFC 7638
// Thumbprint. Pin the key set, and a set fetched after a rotation verifies
// the new key with no change on your side:
//
//	v, err := webhook.NewVerifierJWKS(set, webhook.PinKeySet("ks_..."))
//
// The pin is what keeps another endpoint's signature, which the same set
// verifies, from passing as one for yours; NewVerifierJWKS refuses a set
// of more than one key without it.
//
// The errors and the timestamp tolerance are the same as for v1.
//
// Nothing here is specific to Hookline: any Standard Webhooks library, in any
// language, verifies what Hookline sends, and this package verifies what any
// of them signs.
//
// # The scheme
//
// Each message carries three headers: webhook-id (unique per message, for
// de-duplication), webhook-timestamp (Unix seconds) and webhook-signature,
// a space-separated list of "v1,<base64>" entries. Each entry is the base64
// HMAC-SHA256 of "<id>.<timestamp>.<body>", keyed with the base64-decoded
// part of the secret after "whsec_"; a "v1a,<base64>" entry is the ed25519
// signature of the same bytes. Receivers reject timestamps more than
// five minutes from their clock, which bounds replays.
//
// # Debugging
//
// [Verifier.Inspect] and [InspectStripe] report what a verification found
// and the signature each secret would have produced, which is how
// "hookline verify" explains a failure.
package webhook
